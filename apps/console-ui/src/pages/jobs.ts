import { api, type JobItem } from '../api';
import { h, replaceChildren } from '../dom';
import { age, count } from '../format';
import { clearError, link, poll, statusBadge, table, type PageContext } from '../view';

const STATUSES = ['', 'pending', 'launching', 'running', 'succeeded', 'failed', 'cancelled'];
const KINDS = ['', 'ticket', 'incident'];
const FILTERS = ['status', 'kind', 'repository', 'key'] as const;

export function tokens(job: Pick<JobItem, 'usage'>): string {
  if (!job.usage) return '–';
  return `${count(job.usage.inputTokens)} in · ${count(job.usage.outputTokens)} out`;
}

function jobRow(job: JobItem): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-job-id': job.id },
    h('td', {}, link(`#/jobs/${job.id}`, job.key), job.rerunOf ? h('span', { class: 'tag', title: `re-run of ${job.rerunOf}` }, 're-run') : null, job.followUpOf ? h('span', { class: 'tag', title: `follow-up of ${job.followUpOf}` }, 'follow-up') : null),
    h('td', {}, job.kind),
    h('td', {}, statusBadge(job.status)),
    h('td', {}, job.waitingReason ?? ''),
    h('td', { class: 'repo', title: job.repository }, job.repository.replace(/^.*[/:]([^/]+\/[^/]+?)(\.git)?$/, '$1')),
    h('td', { class: 'num' }, job.attempts),
    h('td', { class: 'num', title: job.createdAt }, age(job.createdAt)),
    h('td', { class: 'num', title: job.usage ? `${job.usage.cachedInputTokens} cached input tokens, ${job.usage.turns} turns` : '' }, tokens(job)),
    h('td', {}, job.pullRequest ? h('a', { href: job.pullRequest, rel: 'noopener noreferrer', target: '_blank' }, 'PR') : ''),
  );
}

function select(name: string, options: string[], value: string): HTMLSelectElement {
  return h('select', { name, id: `filter-${name}` }, options.map((option) => h('option', { value: option, selected: option === value }, option || 'any')));
}

export function jobsPage(ctx: PageContext): void {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, ctx.query.get(name) ?? '']));
  const cursor = ctx.query.get('cursor') ?? undefined;
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const data = new FormData(event.target as HTMLFormElement);
        const next = new URLSearchParams();
        for (const name of FILTERS) {
          const value = String(data.get(name) ?? '').trim();
          if (value) next.set(name, value);
        }
        location.hash = `#/jobs${next.size ? `?${next}` : ''}`;
      },
    },
    h('label', { for: 'filter-status' }, 'Status'),
    select('status', STATUSES, filters['status'] ?? ''),
    h('label', { for: 'filter-kind' }, 'Kind'),
    select('kind', KINDS, filters['kind'] ?? ''),
    h('label', { for: 'filter-repository' }, 'Repository'),
    h('input', { name: 'repository', id: 'filter-repository', value: filters['repository'] ?? '', size: 24 }),
    h('label', { for: 'filter-key' }, 'Key'),
    h('input', { name: 'key', id: 'filter-key', value: filters['key'] ?? '', size: 12 }),
    h('button', { type: 'submit' }, 'Filter'),
  );
  const results = h('div', { 'aria-live': 'polite' });
  ctx.view.replaceChildren(h('h1', {}, 'Jobs'), form, results);

  poll(ctx, 2000, async () => {
    const page = await api.jobs({ ...filters, cursor, limit: 50 });
    clearError(ctx);
    const more = new URLSearchParams(ctx.query);
    if (page.nextCursor) more.set('cursor', page.nextCursor);
    replaceChildren(
      results,
      table(['job', 'kind', 'status', 'waiting reason', 'repository', 'attempts', 'age', 'tokens', 'PR'], page.items.map(jobRow), 'No jobs match.'),
      h(
        'nav',
        { class: 'pager', 'aria-label': 'pages' },
        cursor ? link(`#/jobs${withoutCursor(ctx.query) ? `?${withoutCursor(ctx.query)}` : ''}`, '← newest') : null,
        page.nextCursor ? link(`#/jobs?${more}`, 'older →') : null,
      ),
    );
  });
}

function withoutCursor(query: URLSearchParams): string {
  const copy = new URLSearchParams(query);
  copy.delete('cursor');
  return copy.toString();
}
