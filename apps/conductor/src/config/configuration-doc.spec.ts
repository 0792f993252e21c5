import { configurationDocProblems } from '@agent-conductor/testing';
import { conductorEnvSchema } from './env.validators';

describe('docs/configuration.md, conductor tables', () => {
  it('lists every variable of the env validator, with its default, and nothing it does not read', () => {
    expect(configurationDocProblems('conductor', conductorEnvSchema.shape)).toEqual([]);
  });
});
