import { alarmSpans, renderChartSvg } from './evidence-chart';

const FROM = new Date('2026-11-30T10:00:00Z');
const TO = new Date('2026-11-30T14:00:00Z');
const at = (minutes: number): Date => new Date(FROM.getTime() + minutes * 60_000);
const change = (minutes: number, from: string, to: string): { at: Date; from: string; to: string; summary: string } => ({ at: at(minutes), from, to, summary: '' });

describe('alarmSpans', () => {
  it('shades from each ALARM to the next other state, and to the window\'s end when it never recovered', () => {
    expect(alarmSpans([change(10, 'OK', 'ALARM'), change(40, 'ALARM', 'OK'), change(100, 'OK', 'ALARM')], FROM, TO)).toEqual([
      { from: at(10), to: at(40) },
      { from: at(100), to: TO },
    ]);
  });

  it('starts at the window\'s start when the first change leaves ALARM, and ignores ALARM to ALARM updates', () => {
    expect(alarmSpans([change(20, 'ALARM', 'INSUFFICIENT_DATA'), change(30, 'OK', 'ALARM'), change(35, 'ALARM', 'ALARM'), change(50, 'ALARM', 'OK')], FROM, TO)).toEqual([
      { from: FROM, to: at(20) },
      { from: at(30), to: at(50) },
    ]);
    expect(alarmSpans([], FROM, TO)).toEqual([]);
  });
});

describe('renderChartSvg', () => {
  it('escapes the alarm name, which the alarm\'s owner chose', () => {
    const svg = renderChartSvg({
      alarm: { name: '<script>&"x"', metric: { namespace: 'N', name: 'M', dimensions: {} }, statistic: 'Sum', threshold: 1, comparison: 'GreaterThanThreshold', periodSeconds: 60, evaluationPeriods: 1 },
      points: [{ at: at(5), value: 2 }],
      spans: [],
      from: FROM,
      to: TO,
    });
    expect(svg).toContain('&lt;script&gt;&amp;&quot;x&quot;');
    expect(svg).not.toContain('<script>');
  });
});
