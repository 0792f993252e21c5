import type { AlarmDefinition, AlarmStateChange, MetricPoint } from '@agent-conductor/aws';

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 360;

const MARGIN = { top: 36, right: 24, bottom: 40, left: 72 };

export interface AlarmSpan {
  from: Date;
  to: Date;
}

/** The spans the alarm spent in ALARM within [from, to], from its state history. */
export function alarmSpans(history: AlarmStateChange[], from: Date, to: Date): AlarmSpan[] {
  const spans: AlarmSpan[] = [];
  let openedAt: Date | null = history[0]?.from === 'ALARM' ? from : null;
  for (const change of history) {
    if (change.to === 'ALARM' && openedAt === null) openedAt = change.at;
    if (change.to !== 'ALARM' && openedAt !== null) {
      spans.push({ from: openedAt, to: change.at });
      openedAt = null;
    }
  }
  if (openedAt !== null) spans.push({ from: openedAt, to });
  return spans;
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[char] ?? char);

const round = (value: number): string => (Math.round(value * 10) / 10).toString();

/** A self-contained SVG (no fonts or images fetched): series, threshold line and shaded ALARM spans. */
export function renderChartSvg(input: { alarm: AlarmDefinition; points: MetricPoint[]; spans: AlarmSpan[]; from: Date; to: Date }): string {
  const { alarm, points, spans, from, to } = input;
  const plotWidth = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = points.map((point) => point.value);
  if (alarm.threshold !== null) values.push(alarm.threshold);
  let low = values.length > 0 ? Math.min(...values, 0) : 0;
  let high = values.length > 0 ? Math.max(...values) : 1;
  if (high === low) high = low + 1;
  const pad = (high - low) * 0.08;
  high += pad;
  if (low < 0) low -= pad;
  const start = from.getTime();
  const span = Math.max(1, to.getTime() - start);
  const x = (at: Date): number => MARGIN.left + ((at.getTime() - start) / span) * plotWidth;
  const y = (value: number): number => MARGIN.top + (1 - (value - low) / (high - low)) * plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}">`,
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`,
  ];
  for (const alarmSpan of spans) {
    const left = Math.max(MARGIN.left, x(alarmSpan.from));
    const right = Math.min(MARGIN.left + plotWidth, x(alarmSpan.to));
    if (right > left) parts.push(`<rect x="${round(left)}" y="${MARGIN.top}" width="${round(right - left)}" height="${plotHeight}" fill="#e5484d" fill-opacity="0.15"/>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#8b8d98"/>`);
  for (let tick = 0; tick <= 4; tick++) {
    const value = low + ((high - low) * tick) / 4;
    parts.push(`<text x="${MARGIN.left - 6}" y="${round(y(value) + 4)}" font-family="DejaVu Sans, sans-serif" font-size="11" text-anchor="end" fill="#60646c">${escapeXml(formatValue(value))}</text>`);
  }
  for (let tick = 0; tick <= 4; tick++) {
    const at = new Date(start + (span * tick) / 4);
    parts.push(`<text x="${round(x(at))}" y="${CHART_HEIGHT - MARGIN.bottom + 16}" font-family="DejaVu Sans, sans-serif" font-size="11" text-anchor="middle" fill="#60646c">${at.toISOString().slice(11, 16)}Z</text>`);
  }
  if (alarm.threshold !== null) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${round(y(alarm.threshold))}" y2="${round(y(alarm.threshold))}" stroke="#e5484d" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  }
  if (points.length > 0) {
    const path = points.map((point) => `${round(x(point.at))},${round(y(point.value))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="#0090ff" stroke-width="1.5"/>`);
  }
  const metric = alarm.metric ? `${alarm.metric.namespace} ${alarm.metric.name}` : 'no single metric';
  const title = `${alarm.name}: ${metric} (${alarm.statistic ?? '?'}, ${alarm.periodSeconds ?? '?'}s) threshold ${alarm.threshold ?? '?'}`;
  parts.push(`<text x="${MARGIN.left}" y="22" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#1c2024">${escapeXml(title)}</text>`);
  parts.push(`<text x="${MARGIN.left}" y="${CHART_HEIGHT - 8}" font-family="DejaVu Sans, sans-serif" font-size="11" fill="#60646c">${from.toISOString().slice(0, 10)} UTC · shaded: in ALARM · dashed: threshold</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function formatValue(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A renderer is loaded once; null when its native binary is missing, and the pack then ships SVG only. */
export type PngRenderer = (svg: string) => Uint8Array;

export async function loadPngRenderer(): Promise<PngRenderer | null> {
  try {
    const { Resvg } = await import('@resvg/resvg-js');
    return (svg) => new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  } catch {
    return null;
  }
}
