import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import { DEFAULT_UPSTREAM_BASE_URL, ModelProxy } from './model-proxy';

/** The model API key, read from the worker's environment when a request is forwarded, never copied. */
export const MODEL_API_KEY_READER = Symbol('MODEL_API_KEY_READER');
export type ModelApiKeyReader = () => string | undefined;

export const readModelApiKeyFromEnv: ModelApiKeyReader = () => process.env['OPENAI_API_KEY']?.trim() || undefined;

/** Opens one model proxy per job and closes them all when the worker shuts down. */
@Injectable()
export class ModelProxyService implements OnModuleDestroy {
  private readonly logger = new Logger(ModelProxyService.name);
  private readonly open = new Set<ModelProxy>();

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: Pick<WorkerConfig, 'codex'>,
    @Inject(MODEL_API_KEY_READER) private readonly readApiKey: ModelApiKeyReader,
  ) {}

  /** A started proxy to CODEX_BASE_URL (or OpenAI) with the job's token budget: the lower of AGENT_MAX_TOKENS and the route's. */
  async start(routeMaxTokens: number | undefined): Promise<ModelProxy> {
    const proxy = await new ModelProxy({
      upstreamBaseUrl: this.config.codex?.baseUrl ?? DEFAULT_UPSTREAM_BASE_URL,
      readApiKey: this.readApiKey,
      maxTokens: lowestBudget(this.config.codex?.maxTokens, routeMaxTokens),
    }).start();
    this.open.add(proxy);
    return proxy;
  }

  async close(proxy: ModelProxy): Promise<void> {
    this.open.delete(proxy);
    await proxy.close();
    const upgrades = proxy.refusedUpgrades();
    if (upgrades > 0) this.logger.warn(`codex tried ${upgrades} WebSocket connection(s) to the model proxy; its provider should say supports_websockets = false`);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.open].map((proxy) => this.close(proxy)));
  }
}

/** Budgets that are set; 0 or undefined means none. */
export function lowestBudget(...budgets: Array<number | undefined>): number | undefined {
  const set = budgets.filter((budget): budget is number => budget !== undefined && budget > 0);
  return set.length === 0 ? undefined : Math.min(...set);
}
