import { collectDefaultMetrics, Registry } from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * A registry of one's own rather than prom-client's global one: tests run several apps in one process, and
 * each must expose only its own counters. Default process metrics (CPU, memory, event-loop lag, GC) included.
 */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}
