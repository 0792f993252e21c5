import { AlarmFacts } from './types';

/** Only an alarm in ALARM is an incident signal; OK and INSUFFICIENT_DATA are recoveries or noise. */
export function isAlarmActive(alarm: AlarmFacts): boolean {
  return alarm.state === 'ALARM';
}
