// Ending reports are written by the agent: hostile input. Two layers keep its HTML out of the page:
// marked renders raw HTML as text and drops unsafe link targets, then the DOM result is filtered against an
// allow-list of tags and attributes. The page's CSP (no inline script, no remote images) is the third.
import { Marked, type Tokens } from 'marked';

const ALLOWED_TAGS = new Set([
  'P', 'BR', 'HR', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'PRE', 'CODE', 'EM', 'STRONG', 'DEL',
  'A', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'SPAN',
]);
const ALLOWED_ATTRIBUTES: Record<string, Set<string>> = { A: new Set(['href', 'title']), CODE: new Set(['class']), TH: new Set(['align']), TD: new Set(['align']) };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function safeHref(href: string): string | null {
  try {
    const url = new URL(href, 'https://invalid.example/');
    // Relative links in a report point nowhere useful in the console, and javascript:/data: must never work.
    return (url.protocol === 'https:' || url.protocol === 'http:' || url.protocol === 'mailto:') && url.hostname !== 'invalid.example' ? url.href : null;
  } catch {
    return null;
  }
}

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    link({ href, title, tokens }: Tokens.Link): string {
      const inner = this.parser.parseInline(tokens);
      const target = safeHref(href);
      if (!target) return inner;
      return `<a href="${escapeHtml(target)}"${title ? ` title="${escapeHtml(title)}"` : ''}>${inner}</a>`;
    },
    image({ href, text }: Tokens.Image): string {
      // No images from a report: they would be fetched from wherever the agent says (and the CSP forbids them).
      const target = safeHref(href);
      return target ? `<a href="${escapeHtml(target)}">${escapeHtml(text || 'image')}</a>` : escapeHtml(text);
    },
  },
});

function sanitise(root: ParentNode): void {
  for (const el of Array.from(root.querySelectorAll('*'))) {
    if (!el.isConnected && !root.contains(el)) continue;
    if (!ALLOWED_TAGS.has(el.tagName)) {
      el.replaceWith(document.createTextNode(el.textContent ?? ''));
      continue;
    }
    const allowed = ALLOWED_ATTRIBUTES[el.tagName];
    for (const attr of Array.from(el.attributes)) {
      if (!allowed?.has(attr.name)) el.removeAttribute(attr.name);
    }
    if (el.tagName === 'A') {
      const href = safeHref(el.getAttribute('href') ?? '');
      if (href) el.setAttribute('href', href);
      else el.removeAttribute('href');
      el.setAttribute('rel', 'noopener noreferrer nofollow');
      el.setAttribute('target', '_blank');
    }
  }
}

/** The report as DOM nodes: a <template> parses without running anything, then the allow-list filter runs. */
export function renderMarkdown(markdown: string): DocumentFragment {
  const template = document.createElement('template');
  template.innerHTML = marked.parse(markdown, { async: false });
  sanitise(template.content);
  return template.content;
}
