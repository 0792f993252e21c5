import { awsSessionSecrets, REDACTED, redactSecrets, redactValue, secretRedactor } from './secret-redaction';

// Built at run time so that no scanner mistakes this file for a leak; each has its real shape and length.
const repeat = (unit: string, length: number): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
const classic = (prefix: string): string => `${prefix}_${repeat('aZ09bY18cX27', 36)}`;

describe('redactSecrets', () => {
  it.each(['ghp', 'gho', 'ghu', 'ghs', 'ghr'])('hides a bare GitHub %s_ token', (prefix) => {
    const token = classic(prefix);
    const out = redactSecrets(`pushed with ${token} today`);
    expect(out).toBe(`pushed with ${REDACTED} today`);
  });

  it('hides a fine-grained GitHub token', () => {
    const token = `github_pat_${repeat('11ABCDEFG0', 22)}_${repeat('abcXYZ0123', 59)}`;
    expect(redactSecrets(`export GH=${token}\n`)).not.toContain('github_pat_');
  });

  it.each([
    ['legacy', `sk-${repeat('Ab3', 48)}`],
    ['project', `sk-proj-${repeat('Xy9_-', 120)}`],
    ['service account', `sk-svcacct-${repeat('Qq7', 60)}`],
  ])('hides an OpenAI %s key', (_kind, key) => {
    const out = redactSecrets(`OPENAI says: invalid key ${key}.`);
    expect(out).not.toContain(key.slice(0, 12));
    expect(out).toContain(REDACTED);
  });

  it.each(['token', 'Bearer', 'Basic'])('hides the credential of "Authorization: %s …"', (scheme) => {
    const credential = repeat('c2VjcmV0LXZhbHVl', 32);
    const out = redactSecrets(`> GET /repos HTTP/1.1\n> Authorization: ${scheme} ${credential}\n`);
    expect(out).toContain(`Authorization: ${scheme} ${REDACTED}`);
    expect(out).not.toContain(credential);
  });

  it('hides a git trace2 header value in JSON', () => {
    const credential = repeat('eC1hY2Nlc3MtdG9rZW46', 40);
    const out = redactSecrets(`{"http.https://github.com/.extraheader":"Authorization: Basic ${credential}"}`);
    expect(out).not.toContain(credential);
  });

  it('hides an AWS access key id and the secret key printed next to it', () => {
    const id = 'AKIA' + repeat('QWERTY2345', 16);
    const secret = repeat('wJalrXUtnFEMI/K7MDENG+bPxRfiCY', 40);
    const out = redactSecrets(`aws_access_key_id ${id}\n${secret}\n`);
    expect(out).not.toContain(id);
    expect(out).not.toContain(secret);
    expect(redactSecrets(`key ASIA${repeat('ZXCV', 16)} alone`)).toBe(`key ${REDACTED} alone`);
  });

  it('hides secrets assigned by name, and URL passwords', () => {
    expect(redactSecrets('GITHUB_TOKEN=abc123def456 next')).toBe(`GITHUB_TOKEN=${REDACTED} next`);
    expect(redactSecrets('aws_secret_access_key = hunter2hunter2')).toBe(`aws_secret_access_key = ${REDACTED}`);
    expect(redactSecrets('postgres://app:pa55word@db:5432/x')).toBe(`postgres://app:${REDACTED}@db:5432/x`);
  });

  it('hides exact known secrets, also as the Basic credential git sends', () => {
    const secret = 'plain-looking-value-42';
    const basic = Buffer.from(`x-access-token:${secret}`).toString('base64');
    const out = redactSecrets(`a ${secret} b ${basic} c`, [secret]);
    expect(out).toBe(`a ${REDACTED} b ${REDACTED} c`);
  });

  it('changes nothing when it runs twice (the worker redacts, then the excerpt redacts again)', () => {
    const text = 'Token: tok_known_value_123 and ghp_abcdefghijklmnopqrstuvwxyz0123456789, password=hunter22, Authorization: Bearer abcdefgh12345678';
    const once = redactSecrets(text, ['tok_known_value_123']);
    expect(once).toBe(`Token: ${REDACTED} and ${REDACTED}, password=${REDACTED}, Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets(once, ['tok_known_value_123'])).toBe(once);
  });

  it('hides a PEM private key, also one cut short', () => {
    expect(redactSecrets('key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nafter')).toBe(`key:\n${REDACTED}\nafter`);
    expect(redactSecrets('-----BEGIN PRIVATE KEY-----\nMIIEow')).toBe(REDACTED);
  });

  it('leaves usage counters and ordinary prose alone', () => {
    const usage = '{"input_tokens": 1234, "cached_input_tokens":12, "output_tokens":56, "max_tokens": 4096, "reasoning_output_tokens": 7}';
    expect(redactSecrets(usage)).toBe(usage);
    const prose = 'The token expired; ask for a new token. Task-force notes: skip the basic tests.';
    expect(redactSecrets(prose)).toBe(prose);
    expect(redactSecrets('token: 12345')).toBe('token: 12345');
    expect(redactSecrets('commit 9fceb02d0ae598e95dc970b74767f19372d61af8')).toBe('commit 9fceb02d0ae598e95dc970b74767f19372d61af8');
  });

  it('changes nothing the second time: a redacted value stays [REDACTED], not [REDACTED]]', () => {
    const once = redactSecrets('Token: tok_abcdef123456 and password="hunter2hunter2" and Authorization: Bearer abcdefgh12345678', ['tok_abcdef123456']);
    expect(once).toBe(`Token: ${REDACTED} and password="${REDACTED}" and Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets(once, ['tok_abcdef123456'])).toBe(once);
  });
});

describe('redactValue', () => {
  it('hides sensitive keys but keeps token counters', () => {
    const out = redactValue({ usage: { input_tokens: 10, output_tokens: 2 }, GITHUB_TOKEN: 'x-secret-x', nested: { apiKey: 'k' } });
    expect(out).toEqual({ usage: { input_tokens: 10, output_tokens: 2 }, GITHUB_TOKEN: REDACTED, nested: { apiKey: REDACTED } });
  });
});

describe('secretRedactor', () => {
  it('skips blank and missing secrets', () => {
    const redact = secretRedactor([undefined, '', 'the-worker-token']);
    expect(redact('a the-worker-token b')).toBe(`a ${REDACTED} b`);
    expect(redact('nothing here')).toBe('nothing here');
  });
});

describe('awsSessionSecrets', () => {
  // The shapes STS returns: an ASIA key id, a 40-character secret, a long base64 session token.
  const session = {
    accessKeyId: `ASIA${repeat('R7KD', 16)}`,
    secretAccessKey: repeat('wJalrXUtnFEMIK7MDENGbPxRfiCY', 40),
    sessionToken: `IQoJb3JpZ2luX2VjE${repeat('Ab9+/Zy8xW', 600)}`,
  };

  it('hides the secret key and session token wherever they appear alone, in text and in logged values', () => {
    const redact = secretRedactor(awsSessionSecrets(session));
    const text = `aws sts get-caller-identity failed\nsecret was printed: ${session.secretAccessKey}\nenv dump: ${session.sessionToken}\n`;
    const out = redact(text);
    for (const value of Object.values(session)) expect(out).not.toContain(value.slice(0, 30));
    expect(out).toContain('aws sts get-caller-identity failed');
    // Without the known values the token and a lone secret key survive: the shapes alone cannot find them.
    expect(redactSecrets(text)).toContain(session.sessionToken);

    const logged = JSON.stringify(redactValue({ event: 'tool-output', stdout: `${session.accessKeyId} ${session.sessionToken}` }, awsSessionSecrets(session)));
    expect(logged).not.toContain(session.sessionToken.slice(0, 30));
    expect(logged).not.toContain(session.accessKeyId);
  });
});
