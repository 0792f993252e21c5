import { readJobRepositories } from './job-repositories';
import { renderAgentsFile } from './render-agents-file';

describe('readJobRepositories', () => {
  it('reads null and an empty list as the one-repository job', () => {
    expect(readJobRepositories(null)).toEqual({ ok: true, repositories: [] });
    expect(readJobRepositories([])).toEqual({ ok: true, repositories: [] });
  });

  it('reads the entries in order, missing sparse paths as none', () => {
    expect(
      readJobRepositories([
        { url: 'https://github.com/acme/orders.git', branch: 'main', name: 'orders', sparsePaths: ['src'] },
        { url: '/srv/billing.git', branch: 'release', name: 'billing' },
      ]),
    ).toEqual({
      ok: true,
      repositories: [
        { url: 'https://github.com/acme/orders.git', branch: 'main', name: 'orders', sparsePaths: ['src'] },
        { url: '/srv/billing.git', branch: 'release', name: 'billing', sparsePaths: [] },
      ],
    });
  });

  it('names every problem with its path: duplicate and unsafe names, bad sparse paths and branches, unknown keys', () => {
    const reading = readJobRepositories([
      { url: 'a', branch: 'main', name: 'orders', sparsePaths: [] },
      { url: 'b', branch: 'main', name: 'orders', sparsePaths: [] },
      { url: 'c', branch: '', name: '../etc', sparsePaths: ['/abs'] },
      { url: '', name: '..', extra: 1 },
      'not an object',
    ]);
    expect(reading).toEqual({
      ok: false,
      problems: [
        'repositories[1].name: "orders" is already the name of repositories[0]',
        'repositories[2].branch: must be a non-empty string',
        'repositories[2].name: must use only letters, digits, ".", "_" and "-" (got "../etc")',
        'repositories[2].sparsePaths[0]: must be relative (no leading /)',
        'repositories[3]: unknown keys extra',
        'repositories[3].url: must be a non-empty string',
        'repositories[3].branch: must be a non-empty string',
        'repositories[3].name: must not be "." or contain ".." (got "..")',
        'repositories[4]: must be an object { url, branch, name, sparsePaths }',
      ],
    });
    expect(readJobRepositories({ url: 'a' })).toEqual({ ok: false, problems: ['repositories: must be a list'] });
  });

  it('bounds the number of repositories', () => {
    const many = Array.from({ length: 11 }, (_, index) => ({ url: `u${index}`, branch: 'main', name: `r${index}`, sparsePaths: [] }));
    expect(readJobRepositories(many)).toEqual({ ok: false, problems: ['repositories: at most 10 repositories, found 11'] });
  });
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
