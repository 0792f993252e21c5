import { readJobRepositories, repositoryNameProblem } from './job-repositories';
import { renderAgentsFile } from './render-agents-file';

describe('readJobRepositories', () => {
  it('reads null and an empty list as the one-repository job', () => {
    expect(readJobRepositories(null)).toEqual({ ok: true, repositories: [] });
    expect(readJobRepositories([])).toEqual({ ok: true, repositories: [] });
  });

  it('reads the entries in order, a missing branch and sparse paths as the defaults', () => {
    expect(
      readJobRepositories([
        { url: 'https://github.com/acme/orders.git', branch: 'main', name: 'orders', sparsePaths: ['src'] },
        { url: '/srv/billing.git', name: 'billing' },
      ]),
    ).toEqual({
      ok: true,
      repositories: [
        { url: 'https://github.com/acme/orders.git', branch: 'main', name: 'orders', sparsePaths: ['src'] },
        { url: '/srv/billing.git', branch: null, name: 'billing', sparsePaths: [] },
      ],
    });
  });

  it('names every problem with its path: duplicate and unsafe names, bad sparse paths, unknown keys', () => {
    const reading = readJobRepositories([
      { url: 'a', branch: 'main', name: 'orders', sparsePaths: [] },
      { url: 'b', branch: 'main', name: 'Orders', sparsePaths: [] },
      { url: 'c', branch: '', name: '../etc', sparsePaths: ['/abs'] },
      { url: '', name: '.git', extra: 1 },
      'not an object',
    ]);
    expect(reading).toEqual({
      ok: false,
      problems: [
        'repositories[1].name: "Orders" is already the name of repositories[0]',
        'repositories[2].branch: must be a non-empty string or null',
        'repositories[2].name: must be letters, digits, "-", "_" and inner dots (it is a directory under repo/)',
        'repositories[2].sparsePaths[0]: must be relative (no leading /)',
        'repositories[3]: unknown keys extra',
        'repositories[3].url: must be a non-empty string',
        'repositories[3].name: must be letters, digits, "-", "_" and inner dots (it is a directory under repo/)',
        'repositories[4]: must be an object { url, branch, name, sparsePaths }',
      ],
    });
    expect(readJobRepositories({ url: 'a' })).toEqual({ ok: false, problems: ['repositories: must be a list'] });
  });

  it('bounds the number of repositories', () => {
    const many = Array.from({ length: 11 }, (_, index) => ({ url: `u${index}`, branch: 'main', name: `r${index}`, sparsePaths: [] }));
    expect(readJobRepositories(many)).toEqual({ ok: false, problems: ['repositories: at most 10 repositories, found 11'] });
  });

  it.each(['orders-api', 'orders_api', 'orders.api', 'A1'])('accepts the name %s', (name) => expect(repositoryNameProblem(name)).toBeNull());
  it.each(['', '.', '..', '.git', 'a/b', 'a\\b', 'a..b', 'a.', '-a', 'a b', 'x'.repeat(101)])('refuses the name %j', (name) => expect(repositoryNameProblem(name)).not.toBeNull());
});

describe('renderAgentsFile with several repositories', () => {
  it('lists each repository directory and asks for agent-meta/branches.json', () => {
    const agents = renderAgentsFile('incident', ['orders', 'billing']);
    expect(agents).toContain('- `repo/orders/` (the primary repository)\n- `repo/billing/`');
    expect(agents).toContain('agent-meta/branches.json');
    expect(agents).toContain('`{"orders":"fix/short-description","billing":"fix/short-description"}`');
  });

  it('leaves the one-repository file as it was', () => {
    expect(renderAgentsFile('ticket')).not.toContain('branches.json');
    expect(renderAgentsFile('ticket', [])).toBe(renderAgentsFile('ticket'));
  });
});
