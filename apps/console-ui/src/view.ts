import { ApiError } from './api';
import { h, replaceChildren, type Child } from './dom';

/** A mounted page: `stop` ends its polling when the operator navigates away. */
export interface PageContext {
  view: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  onStop(cleanup: () => void): void;
  stopped(): boolean;
}

export type Page = (ctx: PageContext) => Promise<void> | void;

/** Runs `pass` now and every `intervalMs` until the page stops; passes never overlap and skip while the tab is hidden. */
export function poll(ctx: PageContext, intervalMs: number, pass: () => Promise<void>): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async () => {
    if (ctx.stopped()) return;
    if (document.visibilityState !== 'hidden') {
      try {
        await pass();
      } catch (error) {
        showError(ctx, error);
      }
    }
    if (!ctx.stopped()) timer = setTimeout(() => void run(), intervalMs);
  };
  ctx.onStop(() => clearTimeout(timer));
  void run();
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.status}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function showError(ctx: PageContext, error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return;
  let banner = ctx.view.querySelector<HTMLElement>('.error-banner');
  if (!banner) {
    banner = h('p', { class: 'error-banner', role: 'alert' });
    ctx.view.prepend(banner);
  }
  banner.textContent = errorText(error);
}

export function clearError(ctx: PageContext): void {
  ctx.view.querySelector('.error-banner')?.remove();
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status status-${status.replace(/[^a-z_-]/gi, '')}`, 'data-status': status }, status);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { 'aria-label': title }, h('h2', {}, title), ...children);
}

export function table(headers: string[], rows: HTMLTableRowElement[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((header) => h('th', { scope: 'col' }, header)))), h('tbody', {}, rows));
}

export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href }, ...children);
}

/**
 * A link to a URL that came from outside (a comment's, a pull request's): only http(s) becomes a link, so a
 * `javascript:` or `data:` URL someone typed is shown as text and can never run. Relative references (a local
 * publisher's `<path>#<branch>`) resolve against the console and stay harmless.
 */
export function outsideLink(href: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  let protocol = '';
  try {
    protocol = new URL(href, location.href).protocol;
  } catch {
    protocol = '';
  }
  const text = children.length > 0 ? children : [href];
  if (protocol !== 'http:' && protocol !== 'https:') return h('span', { ...attrs, class: `${attrs['class'] ?? ''} unsafe-link`.trim(), title: href }, ...text);
  return h('a', { ...attrs, href, rel: 'noopener noreferrer', target: '_blank' }, ...text);
}

export function render(ctx: PageContext, ...children: Child[]): void {
  replaceChildren(ctx.view, ...children);
}

export function definitionList(entries: [string, Child][]): HTMLElement {
  return h('dl', {}, entries.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}
