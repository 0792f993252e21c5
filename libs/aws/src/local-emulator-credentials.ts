/** Variables that mean "the default provider chain has something to find"; then we never substitute dummies. */
const CREDENTIAL_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

/** Local emulators accept any signature, but the SDK refuses to send a request it cannot sign. */
const LOCAL_EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Dummy credentials for a client pointed at `endpoint` (a local emulator or fixture) when the environment offers
 * no credential source, so the local stack works out of the box; otherwise undefined (the default provider chain).
 */
export function localEmulatorCredentials(endpoint: string | undefined, env: NodeJS.ProcessEnv): { accessKeyId: string; secretAccessKey: string } | undefined {
  return endpoint && !CREDENTIAL_ENV.some((name) => env[name]) ? LOCAL_EMULATOR_CREDENTIALS : undefined;
}
