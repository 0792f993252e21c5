import { configurationDocProblems } from '@agent-conductor/testing';
import { SECRET_FILE_VARIABLES, workerEnvSchema } from '../src/config/env.validators';
import { conductorLostExitMsFromEnv } from '../src/heartbeat/conductor-lost';

describe('docs/configuration.md, worker tables', () => {
  it('lists every variable of the env validator, with its default, and nothing it does not read', () => {
    // Read outside the validator: the secret files at startup, the lost-conductor limit by the heartbeat module.
    const elsewhere = {
      ...Object.fromEntries(SECRET_FILE_VARIABLES.map((name) => [`${name}_FILE`, undefined])),
      CONDUCTOR_LOST_EXIT_MS: conductorLostExitMsFromEnv({}),
    };
    expect(configurationDocProblems('worker', workerEnvSchema.shape, elsewhere)).toEqual([]);
  });
});
