import type { LogsInsightsQuery, LogsQueryResult } from '@agent-conductor/aws';

/** logs.md is what the agent reads first: a screenful of rows with short cells; logs.csv keeps the rest. */
export const MAX_LOGS_TABLE_ROWS = 100;
export const MAX_LOGS_TABLE_CELL_CHARS = 200;
/** logs.csv keeps every row the query returned (at most the route's limit, itself at most 1000) with long cells cut. */
export const MAX_LOGS_CSV_CELL_CHARS = 2000;
/** Fields beyond these are left out of both files: a query that returns every field makes a table nobody reads. */
export const MAX_LOGS_COLUMNS = 20;
/** Rows, fields and cell length together could reach 40 MB; the whole task archive must stay far below 64 MiB. */
export const MAX_LOGS_CSV_BYTES = 4 * 1024 * 1024;

export interface LogsFiles {
  markdown: string;
  csv: string;
  /** One line for the evidence summary, without the leading "- ". */
  summary: string;
}

/**
 * Both files from one query result; every cut is said in logs.md and in the summary. `dir`: where the files go in the
 * task (`incident`, or `incident/<account>` in a pack of several accounts), for the summary's links.
 */
export function renderLogsFiles(query: LogsInsightsQuery, result: LogsQueryResult, window: { from: Date; to: Date }, dir = 'incident'): LogsFiles {
  const columns = result.columns.slice(0, MAX_LOGS_COLUMNS);
  const rows = result.rows.map((row) => row.slice(0, columns.length));
  const csv = logsCsv(columns, rows);
  const shown = rows.slice(0, MAX_LOGS_TABLE_ROWS);
  const longCells = shown.some((row) => row.some((value) => value.length > MAX_LOGS_TABLE_CELL_CHARS));

  const notes: string[] = [];
  if (rows.length > shown.length) {
    const rest = csv.rows === rows.length ? 'all of them are in logs.csv' : `logs.csv has the first ${csv.rows}`;
    notes.push(`truncated: only the first ${shown.length} of ${rows.length} rows are shown here; ${rest}`);
  }
  if (longCells) notes.push(`cells longer than ${MAX_LOGS_TABLE_CELL_CHARS} characters are cut here (…); logs.csv keeps up to ${MAX_LOGS_CSV_CELL_CHARS}`);
  if (csv.cutCells) notes.push(`cells longer than ${MAX_LOGS_CSV_CELL_CHARS} characters are cut in logs.csv too`);
  if (csv.rows < rows.length) notes.push(`logs.csv stops after ${csv.rows} of ${rows.length} rows, at ${MAX_LOGS_CSV_BYTES / 1024 / 1024} MiB`);
  const omittedColumns = result.columns.length - columns.length;
  if (omittedColumns > 0) notes.push(`${omittedColumns} more field(s) left out: the files keep the first ${MAX_LOGS_COLUMNS}`);
  if (rows.length >= query.limit) notes.push(`the query hit its limit of ${query.limit} rows; more may match in the window`);

  const lines = [
    '# Logs Insights',
    '',
    `Log groups: ${query.logGroups.map((group) => `\`${group}\``).join(', ')}.`,
    `Window: ${window.from.toISOString()} to ${window.to.toISOString()}. Limit: ${query.limit} rows.`,
    '',
    '```',
    // A fence inside the query would end the code block early.
    query.query.replace(/`{3,}/g, (fence) => fence.split('').join('\u200b')),
    '```',
    '',
  ];
  if (rows.length === 0) {
    lines.push('The query returned no rows.', '');
  } else {
    lines.push(`| ${columns.map(markdownCell).join(' | ')} |`, `|${columns.map(() => ' --- |').join('')}`);
    for (const row of shown) lines.push(`| ${row.map(markdownCell).join(' | ')} |`);
    lines.push('');
  }
  for (const note of notes) lines.push(`*Note: ${note}.*`, '');

  const truncation = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  const summary = `Logs Insights over ${query.logGroups.length} log group(s): ${rows.length} row(s). [table](${dir}/logs.md), [data](${dir}/logs.csv)${truncation}.`;
  return { markdown: `${lines.join('\n').trimEnd()}\n`, csv: csv.text, summary };
}

/** The header and as many whole rows as fit MAX_LOGS_CSV_BYTES, each cell at most MAX_LOGS_CSV_CELL_CHARS. */
function logsCsv(columns: string[], rows: string[][]): { text: string; rows: number; cutCells: boolean } {
  if (columns.length === 0) return { text: '', rows: 0, cutCells: false };
  let cutCells = false;
  const cell = (value: string): string => {
    if (value.length <= MAX_LOGS_CSV_CELL_CHARS) return csvField(value);
    cutCells = true;
    return csvField(`${value.slice(0, MAX_LOGS_CSV_CELL_CHARS - 1)}…`);
  };
  const lines = [`${columns.map(cell).join(',')}\n`];
  let bytes = Buffer.byteLength(lines[0] ?? '');
  for (const row of rows) {
    const line = `${row.map(cell).join(',')}\n`;
    bytes += Buffer.byteLength(line);
    if (bytes > MAX_LOGS_CSV_BYTES) break;
    lines.push(line);
  }
  return { text: lines.join(''), rows: lines.length - 1, cutCells };
}

/**
 * A cell that cannot break the table or turn into markup: pipes and backslashes escaped, HTML's three characters as
 * entities, line breaks as <br>, other control characters dropped, and at most MAX_LOGS_TABLE_CELL_CHARS.
 */
export function markdownCell(value: string): string {
  const cut = value.length > MAX_LOGS_TABLE_CELL_CHARS ? `${value.slice(0, MAX_LOGS_TABLE_CELL_CHARS - 1)}…` : value;
  return cut
    .replace(/[&<>]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[char] ?? char)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r\n|\r|\n/g, '<br>')
    // eslint-disable-next-line no-control-regex -- exactly the control characters are what is removed
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
