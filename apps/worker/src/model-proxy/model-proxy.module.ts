import { Module } from '@nestjs/common';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import { MODEL_API_KEY_READER, ModelProxyService, readModelApiKeyFromEnv, type ModelApiKeyReader } from './model-proxy.service';

@Module({
  providers: [
    ModelProxyService,
    {
      provide: MODEL_API_KEY_READER,
      // main.ts removes OPENAI_API_KEY from the environment once the config holds it; the environment is the
      // fallback for a worker started without parseWorkerEnv.
      useFactory: (config: Pick<WorkerConfig, 'modelApiKey'>): ModelApiKeyReader => () => config.modelApiKey ?? readModelApiKeyFromEnv(),
      inject: [WORKER_CONFIG],
    },
  ],
  exports: [ModelProxyService, MODEL_API_KEY_READER],
})
export class ModelProxyModule {}
