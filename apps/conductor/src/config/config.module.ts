import { DynamicModule, Global, Module } from '@nestjs/common';
import type { ConductorConfig } from './env.validators';

export const CONDUCTOR_CONFIG = Symbol('CONDUCTOR_CONFIG');

/** The validated config as one injectable value; built before Nest starts so bad env fails before any I/O. */
@Global()
@Module({})
export class ConductorConfigModule {
  static forRoot(config: ConductorConfig): DynamicModule {
    return {
      module: ConductorConfigModule,
      providers: [{ provide: CONDUCTOR_CONFIG, useValue: config }],
      exports: [CONDUCTOR_CONFIG],
    };
  }
}
