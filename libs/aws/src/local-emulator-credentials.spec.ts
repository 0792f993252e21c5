import { localEmulatorCredentials } from './local-emulator-credentials';

describe('localEmulatorCredentials', () => {
  it('signs for a local endpoint only when the environment offers no credential source', () => {
    expect(localEmulatorCredentials('http://127.0.0.1:4566', {})).toEqual({ accessKeyId: 'local', secretAccessKey: 'local' });
    expect(localEmulatorCredentials(undefined, {})).toBeUndefined();
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) {
      expect(localEmulatorCredentials('http://127.0.0.1:4566', { [name]: 'set' })).toBeUndefined();
    }
  });
});
