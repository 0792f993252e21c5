import { flattenAdf } from './adf';

const text = (value: string, marks?: unknown[]): Record<string, unknown> => ({ type: 'text', text: value, ...(marks ? { marks } : {}) });
const paragraph = (...content: unknown[]): Record<string, unknown> => ({ type: 'paragraph', content });
const item = (...content: unknown[]): Record<string, unknown> => ({ type: 'listItem', content });
const doc = (...content: unknown[]): Record<string, unknown> => ({ type: 'doc', version: 1, content });

describe('flattenAdf', () => {
  it('separates paragraphs with a blank line and honours hard breaks', () => {
    const input = doc(paragraph(text('First '), text('paragraph.')), paragraph(text('Line one'), { type: 'hardBreak' }, text('line two')));
    expect(flattenAdf(input)).toBe('First paragraph.\n\nLine one\nline two');
  });

  it('renders headings with one # per level', () => {
    const input = doc(
      { type: 'heading', attrs: { level: 1 }, content: [text('Title')] },
      { type: 'heading', attrs: { level: 3 }, content: [text('Detail')] },
    );
    expect(flattenAdf(input)).toBe('# Title\n\n### Detail');
  });

  it('indents nested bullet and ordered lists under their parent item', () => {
    const input = doc(
      {
        type: 'bulletList',
        content: [
          item(
            paragraph(text('Outer one')),
            { type: 'orderedList', content: [item(paragraph(text('Inner first'))), item(paragraph(text('Inner second')), { type: 'bulletList', content: [item(paragraph(text('Deepest')))] })] },
          ),
          item(paragraph(text('Outer two'))),
        ],
      },
      paragraph(text('After the list.')),
    );
    expect(flattenAdf(input)).toBe(
      ['- Outer one', '  1. Inner first', '  2. Inner second', '     - Deepest', '- Outer two', '', 'After the list.'].join('\n'),
    );
  });

  it('starts an ordered list at its order attribute', () => {
    const input = doc({ type: 'orderedList', attrs: { order: 9 }, content: [item(paragraph(text('nine'))), item(paragraph(text('ten')))] });
    expect(flattenAdf(input)).toBe('9. nine\n10. ten');
  });

  it('fences code blocks with their language and keeps their indentation', () => {
    const input = doc(paragraph(text('Run:')), { type: 'codeBlock', attrs: { language: 'ts' }, content: [text('if (x) {\n  go();\n}\n')] });
    expect(flattenAdf(input)).toBe('Run:\n\n```ts\nif (x) {\n  go();\n}\n```');
  });

  it('prefixes every line of a blockquote, including the blank line between paragraphs', () => {
    const input = doc({ type: 'blockquote', content: [paragraph(text('Quoted one')), paragraph(text('Quoted two'))] });
    expect(flattenAdf(input)).toBe('> Quoted one\n>\n> Quoted two');
  });

  it('renders mentions, emoji, inline cards and rules', () => {
    const input = doc(
      paragraph(
        { type: 'mention', attrs: { id: 'abc', text: '@Sam Reporter' } },
        text(' says '),
        { type: 'emoji', attrs: { shortName: ':fire:', text: '🔥' } },
        text(' see '),
        { type: 'inlineCard', attrs: { url: 'https://example.com/runbook' } },
      ),
      { type: 'rule' },
      paragraph({ type: 'mention', attrs: { id: 'xyz', text: 'Alex' } }),
    );
    expect(flattenAdf(input)).toBe('@Sam Reporter says 🔥 see https://example.com/runbook\n\n---\n\n@Alex');
  });

  it('renders code and link marks as Markdown', () => {
    const input = doc(paragraph(text('Call '), text('retry()', [{ type: 'code' }]), text(' per '), text('the docs', [{ type: 'link', attrs: { href: 'https://d.example' } }])));
    expect(flattenAdf(input)).toBe('Call `retry()` per [the docs](https://d.example)');
  });

  it('recurses into unknown nodes such as panels and tables', () => {
    const input = doc(
      { type: 'panel', attrs: { panelType: 'info' }, content: [paragraph(text('Inside a panel'))] },
      { type: 'table', content: [{ type: 'tableRow', content: [{ type: 'tableCell', content: [paragraph(text('cell'))] }] }] },
      paragraph({ type: 'status', attrs: { text: 'IN PROGRESS' } }, { type: 'futureInline', content: [text(' later')] }),
    );
    expect(flattenAdf(input)).toBe('Inside a panel\n\ncell\n\nIN PROGRESS later');
  });

  it('drops empty paragraphs and trailing whitespace', () => {
    const input = doc(paragraph(text('Kept.   ')), paragraph(), paragraph(text('   ')), paragraph(text('End.  ')));
    expect(flattenAdf(input)).toBe('Kept.\n\nEnd.');
  });

  it('passes a plain string through, trimming only the end', () => {
    expect(flattenAdf('  indented\nsecond line  \n\n')).toBe('  indented\nsecond line');
  });

  it.each([[null], [undefined], [42], [{}], [{ type: 'doc' }]])('yields an empty string for %p', (input) => {
    expect(flattenAdf(input)).toBe('');
  });
});
