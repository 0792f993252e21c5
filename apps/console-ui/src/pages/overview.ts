import { api, type QueueDepth } from '../api';
import { h } from '../dom';
import { age, count, duration, percent } from '../format';
import { clearError, definitionList, link, poll, render, section, table, type PageContext } from '../view';

function depth(queue: QueueDepth | null): string {
  return queue ? `${queue.visible} visible · ${queue.inFlight} in flight · ${queue.delayed} delayed` : 'not configured';
}

export function overviewPage(ctx: PageContext): void {
  poll(ctx, 5000, async () => {
    const [overview, admission] = await Promise.all([api.overview(), api.admission()]);
    clearError(ctx);
    const day = overview.last24h;
    render(
      ctx,
      h('h1', {}, 'Overview'),
      overview.queueErrors.length ? h('p', { class: 'error-banner', role: 'status' }, `Queue depths unavailable: ${overview.queueErrors.join('; ')}`) : null,
      h(
        'div',
        { class: 'cards' },
        h('article', { class: 'card', 'aria-label': 'Active agents' }, h('h2', {}, 'Active'), h('p', { class: 'big' }, `${overview.active} / ${overview.maxActive}`), h('p', {}, `${overview.pending} pending`)),
        h('article', { class: 'card', 'aria-label': 'Intake queue' }, h('h2', {}, 'Intake queue'), h('p', { class: 'big' }, count(overview.queue?.visible)), h('p', {}, depth(overview.queue))),
        h('article', { class: 'card', 'aria-label': 'Dead-letter queue' }, h('h2', {}, 'Dead-letter queue'), h('p', { class: overview.dlq && overview.dlq.visible > 0 ? 'big warn' : 'big' }, count(overview.dlq?.visible)), h('p', {}, depth(overview.dlq))),
        h(
          'article',
          { class: 'card', 'aria-label': 'Last 24 hours' },
          h('h2', {}, 'Last 24 h'),
          h('p', { class: 'big' }, percent(day.successRate)),
          definitionList([
            ['succeeded', day.succeeded],
            ['failed', day.failed],
            ['cancelled', day.cancelled],
            ['median duration', duration(day.medianDurationMs)],
          ]),
        ),
      ),
      section(
        'Claims',
        table(
          ['claim', 'active', 'limit', 'waiting'],
          admission.claims.map((claim) => h('tr', {}, h('td', {}, claim.claim), h('td', {}, claim.active), h('td', {}, claim.limit), h('td', {}, claim.waiting))),
          'No claims configured.',
        ),
      ),
      section(
        'Waiting',
        table(
          ['job', 'claim', 'reason', 'waiting for'],
          admission.waiting.map((waiting) =>
            h('tr', {}, h('td', {}, link(`#/jobs/${waiting.jobId}`, waiting.jobId.slice(0, 8))), h('td', {}, waiting.claim), h('td', {}, waiting.reason ?? ''), h('td', {}, age(waiting.since))),
          ),
          'Nothing is waiting.',
        ),
      ),
    );
  });
}
