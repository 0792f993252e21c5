import { api, type Alarm, type IncidentDetail } from '../api';
import { h, replaceChildren, svg } from '../dom';
import { age, time } from '../format';
import { clearError, definitionList, link, poll, render, section, statusBadge, table, type PageContext } from '../view';

const WIDTH = 800;
const HEIGHT = 170;
const LEFT = 20;
const RIGHT = 20;
const AXIS_Y = 130;
const MINUTE = 60_000;

function tickStep(spanMs: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440].map((m) => m * MINUTE);
  return steps.find((step) => spanMs / step <= 8) ?? 1440 * MINUTE;
}

/** 1440 → "24 h", 90 → "90 min". */
export function minutesText(minutes: number): string {
  return minutes % 60 === 0 && minutes >= 120 ? `${minutes / 60} h` : `${minutes} min`;
}

function hhmm(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

/**
 * The incident's alarms on a time axis, with what grouped them: each ALARM reaches `window` minutes further
 * (the shaded bands; an alarm inside a band joined the incident), and the cap ends the incident's span.
 */
export function incidentPlot(incident: IncidentDetail): SVGSVGElement {
  const windowMs = incident.windowMinutes * MINUTE;
  const capMs = incident.capMinutes * MINUTE;
  const at = (alarm: Alarm) => new Date(alarm.at).getTime();
  const alarms = [...incident.alarms].sort((a, b) => at(a) - at(b));
  const firing = alarms.filter((alarm) => alarm.state === 'ALARM');
  const first = firing.length ? at(firing[0] as Alarm) : new Date(incident.firstAlarmAt).getTime();
  const last = firing.length ? at(firing[firing.length - 1] as Alarm) : new Date(incident.lastAlarmAt).getTime();
  const capAt = first + capMs;
  const reachEnd = last + windowMs;
  const times = alarms.map(at);
  // The axis shows the whole reach; the cap only when it is near enough not to squash the alarms.
  const start = Math.min(first, ...times) - windowMs * 0.1;
  const capOnAxis = capAt - start <= Math.max(reachEnd - start, 1) * 1.5;
  const end = Math.max(reachEnd, ...times, capOnAxis ? capAt : 0) + windowMs * 0.1;
  const x = (t: number) => LEFT + ((t - start) / (end - start)) * (WIDTH - LEFT - RIGHT);
  const step = tickStep(end - start);
  const ticks: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);

  return svg(
    'svg',
    {
      class: 'incident-plot',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'img',
      'aria-label': `${incident.alarmCount} alarms of account ${incident.account}, window ${incident.windowMinutes} minutes, cap ${minutesText(incident.capMinutes)}`,
    },
    firing.map((alarm) =>
      svg('rect', { class: 'reach', x: x(at(alarm)), y: 20, width: Math.max(1, x(at(alarm) + windowMs) - x(at(alarm))), height: AXIS_Y - 20 }, svg('title', {}, `${alarm.name} reaches until ${hhmm(at(alarm) + windowMs)} UTC`)),
    ),
    svg('line', { class: 'axis', x1: LEFT, x2: WIDTH - RIGHT, y1: AXIS_Y, y2: AXIS_Y }),
    ticks.map((t) => [svg('line', { class: 'tick', x1: x(t), x2: x(t), y1: AXIS_Y, y2: AXIS_Y + 5 }), svg('text', { class: 'tick-label', x: x(t), y: AXIS_Y + 18, 'text-anchor': 'middle' }, hhmm(t))]),
    svg('line', { class: 'window-edge', x1: x(reachEnd), x2: x(reachEnd), y1: 12, y2: AXIS_Y }),
    svg('text', { class: 'window-label', x: x(reachEnd) - 4, y: 12, 'text-anchor': 'end' }, `reach: last alarm + ${incident.windowMinutes} min`),
    capOnAxis
      ? [svg('line', { class: 'cap', x1: x(capAt), x2: x(capAt), y1: 12, y2: AXIS_Y }), svg('text', { class: 'cap-label', x: x(capAt) - 4, y: 26, 'text-anchor': 'end' }, `cap ${minutesText(incident.capMinutes)}`)]
      : svg('text', { class: 'cap-label', x: WIDTH - RIGHT, y: HEIGHT - 6, 'text-anchor': 'end' }, `cap: ${minutesText(incident.capMinutes)} after the first alarm (${time(new Date(capAt).toISOString())}) →`),
    alarms.map((alarm, i) =>
      svg(
        'circle',
        { class: `alarm alarm-${alarm.state}`, 'data-alarm-id': alarm.id, cx: x(at(alarm)), cy: alarm.state === 'ALARM' ? 60 + (i % 4) * 14 : 112, r: 6 },
        svg('title', {}, `${time(alarm.at)} ${alarm.name} ${alarm.state}${alarm.region ? ` (${alarm.region})` : ''}`),
      ),
    ),
    svg('text', { class: 'axis-label', x: LEFT, y: HEIGHT - 6 }, `UTC, ${new Date(start).toISOString().slice(0, 10)}`),
  );
}

export function incidentsPage(ctx: PageContext): void {
  poll(ctx, 5000, async () => {
    const page = await api.incidents({ limit: 50 });
    clearError(ctx);
    render(
      ctx,
      h('h1', {}, 'Incidents'),
      table(
        ['incident', 'account', 'job status', 'first alarm', 'last alarm', 'alarms', 'job'],
        page.items.map((incident) =>
          h(
            'tr',
            { 'data-incident-id': incident.id },
            h('td', {}, link(`#/incidents/${incident.id}`, incident.id.slice(0, 8))),
            h('td', {}, incident.account),
            h('td', {}, statusBadge(incident.jobStatus)),
            h('td', { title: incident.firstAlarmAt }, `${age(incident.firstAlarmAt)} ago`),
            h('td', { title: incident.lastAlarmAt }, `${age(incident.lastAlarmAt)} ago`),
            h('td', { class: 'num' }, incident.alarmCount),
            h('td', {}, link(`#/jobs/${incident.jobId}`, incident.jobId.slice(0, 8))),
          ),
        ),
        'No incidents.',
      ),
    );
  });
}

export function incidentDetailPage(ctx: PageContext): void {
  const id = ctx.params['id'] ?? '';
  const plot = h('figure', { class: 'plot' });
  const facts = h('div');
  const alarms = h('div');
  ctx.view.replaceChildren(h('p', {}, link('#/incidents', '← incidents')), facts, section('Alarms on the time axis', plot), section('Alarms', alarms));
  poll(ctx, 5000, async () => {
    const incident = await api.incident(id);
    clearError(ctx);
    replaceChildren(
      facts,
      h('h1', {}, `Incident ${incident.account} `, h('span', { class: 'tag' }, 'job'), ' ', statusBadge(incident.jobStatus)),
      definitionList([
        ['first alarm', time(incident.firstAlarmAt)],
        ['last alarm', time(incident.lastAlarmAt)],
        ['alarms', incident.alarmCount],
        ['window', `${incident.windowMinutes} min (an ALARM joins when it is this close to one already in the incident)`],
        ['cap', `${minutesText(incident.capMinutes)} (the longest span from first to last alarm)`],
        ['job', link(`#/jobs/${incident.jobId}`, incident.jobId)],
      ]),
    );
    replaceChildren(plot, incidentPlot(incident), h('figcaption', {}, 'Shaded: each ALARM’s window. Dots: alarms (red ALARM, green OK / other states, below).'));
    replaceChildren(
      alarms,
      table(
        ['at', 'name', 'state', 'region', 'delivery'],
        incident.alarms.map((alarm) =>
          h('tr', {}, h('td', {}, time(alarm.at)), h('td', {}, alarm.name), h('td', {}, alarm.state), h('td', {}, alarm.region ?? ''), h('td', {}, link(`#/deliveries/${alarm.deliveryId}`, alarm.deliveryId.slice(0, 8)))),
        ),
        'No alarms.',
      ),
    );
  });
}
