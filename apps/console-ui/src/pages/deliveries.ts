import { api } from '../api';
import { h, replaceChildren } from '../dom';
import { time } from '../format';
import { clearError, definitionList, link, poll, section, table, type PageContext } from '../view';

export function deliveriesPage(ctx: PageContext): void {
  const rejected = ctx.query.get('rejected') === 'true';
  const cursor = ctx.query.get('cursor') ?? undefined;
  const toggle = h('input', {
    type: 'checkbox',
    id: 'rejected-only',
    checked: rejected,
    onchange: (event: Event) => {
      location.hash = (event.target as HTMLInputElement).checked ? '#/deliveries?rejected=true' : '#/deliveries';
    },
  });
  const results = h('div', { 'aria-live': 'polite' });
  ctx.view.replaceChildren(h('h1', {}, 'Deliveries'), h('p', { class: 'filters' }, toggle, h('label', { for: 'rejected-only' }, ' rejected only')), results);
  poll(ctx, 5000, async () => {
    const page = await api.deliveries({ rejected: rejected || undefined, cursor, limit: 50 });
    clearError(ctx);
    const older = new URLSearchParams(ctx.query);
    if (page.nextCursor) older.set('cursor', page.nextCursor);
    replaceChildren(
      results,
      table(
        ['received', 'classification', 'rejection reason', 'SQS message'],
        page.items.map((delivery) =>
          h(
            'tr',
            { 'data-delivery-id': delivery.id },
            h('td', {}, link(`#/deliveries/${delivery.id}`, time(delivery.receivedAt))),
            h('td', {}, delivery.classification),
            h('td', {}, delivery.rejectionReason ?? ''),
            h('td', {}, h('code', {}, delivery.sqsMessageId)),
          ),
        ),
        rejected ? 'No rejected deliveries.' : 'No deliveries.',
      ),
      page.nextCursor ? h('nav', { class: 'pager', 'aria-label': 'pages' }, link(`#/deliveries?${older}`, 'older →')) : null,
    );
  });
}

/** The raw body as text (pretty-printed when it is JSON): it is whatever arrived on the queue, never markup. */
export function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export async function deliveryDetailPage(ctx: PageContext): Promise<void> {
  const delivery = await api.delivery(ctx.params['id'] ?? '');
  replaceChildren(
    ctx.view,
    h('p', {}, link('#/deliveries', '← deliveries')),
    h('h1', {}, `Delivery ${delivery.id.slice(0, 8)}`),
    definitionList([
      ['received', time(delivery.receivedAt)],
      ['classification', delivery.classification],
      ['rejection reason', delivery.rejectionReason ?? '–'],
      ['SQS message id', h('code', {}, delivery.sqsMessageId)],
    ]),
    section('Raw body', h('pre', { class: 'raw-body' }, prettyBody(delivery.body))),
  );
}
