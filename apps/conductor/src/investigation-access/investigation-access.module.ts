import { createStsClient } from '@agent-conductor/aws';
import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { AgentCredentialsService } from './agent-credentials.service';
import { STS_CLIENT } from './sts-client';

/**
 * Incident access (docs/incident-access.md): the conductor's STS client, which assumes each job's investigation role
 * for its evidence, and the read-only sessions handed to incident agents at handshake and on refresh.
 */
@Module({
  providers: [
    {
      provide: STS_CLIENT,
      useFactory: (config: Pick<ConductorConfig, 'awsRegion' | 'stsEndpoint'>) =>
        createStsClient({ region: config.awsRegion, maxAttempts: 3, ...(config.stsEndpoint ? { endpoint: config.stsEndpoint } : {}) }),
      inject: [CONDUCTOR_CONFIG],
    },
    AgentCredentialsService,
  ],
  exports: [STS_CLIENT, AgentCredentialsService],
})
export class InvestigationAccessModule {}
