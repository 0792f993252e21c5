import { Module } from '@nestjs/common';
import { MODEL_API_KEY_READER, ModelProxyService, readModelApiKeyFromEnv } from './model-proxy.service';

@Module({
  providers: [ModelProxyService, { provide: MODEL_API_KEY_READER, useValue: readModelApiKeyFromEnv }],
  exports: [ModelProxyService, MODEL_API_KEY_READER],
})
export class ModelProxyModule {}
