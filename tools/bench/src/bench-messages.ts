/** What the benches send: reproducible message streams, so runs of one size submit the very same messages. */

/** A small deterministic generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchAlarm {
  id: string;
  account: string;
  time: Date;
  region: string;
  alarmName: string;
  state: 'ALARM' | 'OK';
  reason: string;
  metric: { namespace: string; name: string; dimensions: Record<string, string>; stat: string };
}

/** An EventBridge "CloudWatch Alarm State Change" event, as the intake queue receives it. */
export function cloudWatchAlarmBody(alarm: BenchAlarm): string {
  const { namespace, name, dimensions, stat } = alarm.metric;
  return JSON.stringify({
    version: '0',
    id: alarm.id,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: alarm.account,
    time: `${alarm.time.toISOString().slice(0, 19)}Z`,
    region: alarm.region,
    resources: [`arn:aws:cloudwatch:${alarm.region}:${alarm.account}:alarm:${alarm.alarmName}`],
    detail: {
      alarmName: alarm.alarmName,
      state: { value: alarm.state, reason: alarm.reason },
      previousState: { value: alarm.state === 'OK' ? 'ALARM' : 'OK' },
      configuration: { metrics: [{ id: 'm1', metricStat: { metric: { namespace, name, dimensions }, period: 60, stat } }] },
    },
  });
}
