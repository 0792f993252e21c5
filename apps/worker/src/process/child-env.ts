const SECRET_NAME = /TOKEN|SECRET|KEY|PASSWORD|CREDENTIAL/i;

/**
 * The environment handed to the agent and to git: the worker's own minus anything that looks like a
 * secret, because the agent must not be able to read (and leak) the worker token or cloud keys.
 */
export function scrubbedEnv(base: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !SECRET_NAME.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}
