import { array, isRecord, JsonRecord, record } from './json';

// Descriptions come off the queue: a hostile or broken document must not blow the stack.
const MAX_DEPTH = 64;

// Nodes that live inside a paragraph. In a block context, runs of these are gathered into one paragraph
// so that sloppy documents (text directly under `doc` or `listItem`) still read naturally.
const INLINE_TYPES = new Set(['text', 'hardBreak', 'mention', 'emoji', 'inlineCard', 'status', 'date', 'placeholder']);

/**
 * Flattens an Atlassian Document Format node into readable Markdown-ish plain text.
 * A plain string passes through (Jira's v2 API and many webhooks send descriptions that way);
 * anything that is neither a string nor an ADF node yields ''.
 */
export function flattenAdf(node: unknown): string {
  if (typeof node === 'string') return node.trimEnd();
  const nodes = Array.isArray(node) ? node : isRecord(node) ? [node] : [];
  return renderBlocks(nodes, 0).join('\n\n').trimEnd();
}

function nodeType(node: JsonRecord): string {
  return typeof node['type'] === 'string' ? node['type'] : '';
}

function children(node: JsonRecord): unknown[] {
  return array(node['content']);
}

function attrs(node: JsonRecord): JsonRecord {
  return record(node['attrs']);
}

function stringAttr(node: JsonRecord, name: string): string | null {
  const value = attrs(node)[name];
  return typeof value === 'string' ? value : null;
}

/** Renders nodes in a block context; each returned string is one block (possibly multi-line). */
function renderBlocks(nodes: unknown[], depth: number): string[] {
  if (depth > MAX_DEPTH) return [];
  const blocks: string[] = [];
  let inlineRun: JsonRecord[] = [];
  const flushInline = (): void => {
    if (inlineRun.length > 0) push(blocks, renderParagraph(inlineRun, depth));
    inlineRun = [];
  };

  for (const candidate of nodes) {
    if (!isRecord(candidate)) continue;
    if (INLINE_TYPES.has(nodeType(candidate))) {
      inlineRun.push(candidate);
      continue;
    }
    flushInline();
    blocks.push(...renderBlock(candidate, depth));
  }
  flushInline();
  return blocks;
}

function push(blocks: string[], block: string): void {
  if (block.trim() !== '') blocks.push(block);
}

function renderBlock(node: JsonRecord, depth: number): string[] {
  const next = depth + 1;
  switch (nodeType(node)) {
    case 'paragraph':
      return nonEmpty(renderParagraph(children(node), next));
    case 'heading': {
      const text = renderParagraph(children(node), next);
      return text.trim() === '' ? [] : [`${'#'.repeat(headingLevel(node))} ${text}`];
    }
    case 'bulletList':
      return nonEmpty(renderList(node, () => '- ', next));
    case 'orderedList': {
      const start = startNumber(node);
      return nonEmpty(renderList(node, (index) => `${start + index}. `, next));
    }
    case 'taskList':
      return nonEmpty(renderList(node, (_index, item) => (stringAttr(item, 'state') === 'DONE' ? '- [x] ' : '- [ ] '), next));
    case 'codeBlock': {
      const language = stringAttr(node, 'language') ?? '';
      // Code keeps its whitespace; only the trailing newline Jira sometimes adds is dropped.
      const code = plainText(children(node), next).replace(/\n+$/, '');
      return [`\`\`\`${language}\n${code}\n\`\`\``];
    }
    case 'blockquote': {
      const inner = renderBlocks(children(node), next).join('\n\n');
      return inner === '' ? [] : [prefixLines(inner, '> ')];
    }
    case 'rule':
      return ['---'];
    default: {
      // Unknown containers (panel, table, expand, mediaSingle, …): keep whatever text they hold.
      const text = stringAttr(node, 'text');
      if (children(node).length === 0 && text !== null) return nonEmpty(text);
      return renderBlocks(children(node), next);
    }
  }
}

function nonEmpty(block: string): string[] {
  return block.trim() === '' ? [] : [block];
}

function headingLevel(node: JsonRecord): number {
  const level = attrs(node)['level'];
  return typeof level === 'number' && Number.isInteger(level) ? Math.min(Math.max(level, 1), 6) : 1;
}

function startNumber(node: JsonRecord): number {
  const order = attrs(node)['order'];
  return typeof order === 'number' && Number.isInteger(order) && order >= 0 ? order : 1;
}

function renderList(node: JsonRecord, marker: (index: number, item: JsonRecord) => string, depth: number): string {
  const items = children(node).filter(isRecord);
  const lines: string[] = [];
  items.forEach((item, index) => {
    const prefix = marker(index, item);
    // Items are rendered tight (one line apart) so that nested lists stay attached to their parent item.
    const body = renderBlocks(children(item), depth + 1).join('\n');
    if (body !== '') lines.push(prefixLines(body, prefix, ' '.repeat(prefix.length)));
  });
  return lines.join('\n');
}

/** Prefixes the first line with `first` and the rest with `rest` (indentation under a list marker, `> `). */
function prefixLines(text: string, first: string, rest: string = first): string {
  return text
    .split('\n')
    .map((line, index) => ((index === 0 ? first : rest) + line).trimEnd())
    .join('\n');
}

function renderParagraph(nodes: unknown[], depth: number): string {
  return renderInline(nodes, depth)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

function renderInline(nodes: unknown[], depth: number): string {
  if (depth > MAX_DEPTH) return '';
  let out = '';
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    out += renderInlineNode(node, depth + 1);
  }
  return out;
}

function renderInlineNode(node: JsonRecord, depth: number): string {
  switch (nodeType(node)) {
    case 'text':
      return applyMarks(typeof node['text'] === 'string' ? node['text'] : '', node);
    case 'hardBreak':
      return '\n';
    case 'mention': {
      const text = stringAttr(node, 'text') ?? stringAttr(node, 'id') ?? '';
      return text === '' || text.startsWith('@') ? text : `@${text}`;
    }
    case 'emoji':
      return stringAttr(node, 'text') ?? stringAttr(node, 'shortName') ?? '';
    case 'inlineCard':
      return stringAttr(node, 'url') ?? '';
    case 'date': {
      const timestamp = Number(attrs(node)['timestamp']);
      return Number.isFinite(timestamp) ? new Date(timestamp).toISOString().slice(0, 10) : '';
    }
    default:
      // status, placeholder and anything unknown: their visible text, else whatever they contain.
      return stringAttr(node, 'text') ?? renderInline(children(node), depth);
  }
}

function applyMarks(text: string, node: JsonRecord): string {
  if (text === '') return text;
  let out = text;
  for (const mark of array(node['marks'])) {
    if (!isRecord(mark)) continue;
    const type = nodeType(mark);
    if (type === 'code') out = `\`${out}\``;
    if (type === 'link') {
      const href = stringAttr(mark, 'href');
      if (href !== null && href !== text) out = `[${out}](${href})`;
    }
  }
  return out;
}

/** Raw text content, for code blocks where Markdown decoration would corrupt the code. */
function plainText(nodes: unknown[], depth: number): string {
  if (depth > MAX_DEPTH) return '';
  let out = '';
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    if (nodeType(node) === 'hardBreak') out += '\n';
    else if (typeof node['text'] === 'string') out += node['text'];
    else out += plainText(children(node), depth + 1);
  }
  return out;
}
