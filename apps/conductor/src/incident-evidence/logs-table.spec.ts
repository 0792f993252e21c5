import type { LogsInsightsQuery } from '@agent-conductor/aws';
import { csvField, markdownCell, MAX_LOGS_COLUMNS, MAX_LOGS_CSV_BYTES, MAX_LOGS_CSV_CELL_CHARS, renderLogsFiles } from './logs-table';

const QUERY: LogsInsightsQuery = { logGroups: ['/ecs/orders'], query: 'fields @timestamp, @message', limit: 1000 };
const WINDOW = { from: new Date('2026-11-30T10:00:00Z'), to: new Date('2026-11-30T14:00:00Z') };

describe('renderLogsFiles', () => {
  it('says when there are no rows, and writes no CSV without fields', () => {
    const files = renderLogsFiles(QUERY, { columns: [], rows: [] }, WINDOW);
    expect(files.markdown).toContain('The query returned no rows.');
    expect(files.markdown).toContain('Window: 2026-11-30T10:00:00.000Z to 2026-11-30T14:00:00.000Z. Limit: 1000 rows.');
    expect(files.csv).toBe('');
    expect(files.summary).toBe('Logs Insights over 1 log group(s): 0 row(s). [table](incident/logs.md), [data](incident/logs.csv).');
  });

  it('keeps the first fields only, and says so', () => {
    const columns = Array.from({ length: MAX_LOGS_COLUMNS + 3 }, (_, i) => `f${i}`);
    const files = renderLogsFiles(QUERY, { columns, rows: [columns.map((column) => `${column}-value`)] }, WINDOW);
    expect(files.csv.split('\n')[0]).toBe(columns.slice(0, MAX_LOGS_COLUMNS).join(','));
    expect(files.markdown).not.toContain(`f${MAX_LOGS_COLUMNS}`);
    expect(files.summary).toContain(`3 more field(s) left out: the files keep the first ${MAX_LOGS_COLUMNS}`);
  });

  it('stops logs.csv at whole rows before its size bound, and says so in both places', () => {
    const cell = 'y'.repeat(MAX_LOGS_CSV_CELL_CHARS);
    const rows = Array.from({ length: 1000 }, () => [cell, cell, cell]);
    const files = renderLogsFiles(QUERY, { columns: ['a', 'b', 'c'], rows }, WINDOW);
    expect(Buffer.byteLength(files.csv)).toBeLessThanOrEqual(MAX_LOGS_CSV_BYTES);
    const kept = files.csv.trimEnd().split('\n').length - 1;
    expect(kept).toBeGreaterThan(100);
    expect(kept).toBeLessThan(1000);
    expect(files.csv.endsWith(`${cell},${cell},${cell}\n`)).toBe(true);
    expect(files.markdown).toContain(`logs.csv stops after ${kept} of 1000 rows, at 4 MiB`);
    expect(files.markdown).toContain(`only the first 100 of 1000 rows are shown here; logs.csv has the first ${kept}`);
    expect(files.summary).toContain('the query hit its limit of 1000 rows');
  });

  it('cuts long cells in logs.csv too, and says so', () => {
    const long = 'z'.repeat(MAX_LOGS_CSV_CELL_CHARS + 10);
    const files = renderLogsFiles(QUERY, { columns: ['@message'], rows: [[long]] }, WINDOW);
    expect(files.csv).toBe(`@message\n${'z'.repeat(MAX_LOGS_CSV_CELL_CHARS - 1)}…\n`);
    expect(files.summary).toContain(`cells longer than ${MAX_LOGS_CSV_CELL_CHARS} characters are cut in logs.csv too`);
  });

  it('keeps a query with a code fence inside its code block', () => {
    const files = renderLogsFiles({ ...QUERY, query: 'fields @message ``` | limit 5' }, { columns: [], rows: [] }, WINDOW);
    expect(files.markdown.match(/^```$/gm)).toHaveLength(2);
  });
});

describe('markdownCell and csvField', () => {
  it('escapes what would break a table or become markup, and drops control characters', () => {
    expect(markdownCell('a|b\\c <b>&</b>\r\nnext\u0007\tend')).toBe('a\\|b\\\\c &lt;b&gt;&amp;&lt;/b&gt;<br>next\tend');
  });

  it('quotes as RFC 4180 does, and only when needed', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
});
