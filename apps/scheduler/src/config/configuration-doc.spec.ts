import { configurationDocProblems } from '@agent-conductor/testing';
import { schedulerEnvSchema } from './env.validators';

describe('docs/configuration.md, scheduler table', () => {
  it('lists every variable of the env validator, with its default, and nothing it does not read', () => {
    expect(configurationDocProblems('scheduler', schedulerEnvSchema.shape)).toEqual([]);
  });
});
