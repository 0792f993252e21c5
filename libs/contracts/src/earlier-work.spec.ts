import { boundedExcerpt, boundedLine } from './earlier-work';

describe('boundedExcerpt', () => {
  it('keeps short text as it is, trimmed, with newlines normalised', () => {
    expect(boundedExcerpt('  Fixed it.\r\nTested it.\rDone.\n', 100)).toBe('Fixed it.\nTested it.\nDone.');
  });

  it('drops control characters and bidirectional overrides, keeps tabs and newlines', () => {
    expect(boundedExcerpt('a\u001b[31mb\u0007c\td\u202ee\u2066f\ng', 100)).toBe('a[31mbc\tdef\ng');
  });

  it('cuts at a word boundary near the limit and marks the cut', () => {
    const cut = boundedExcerpt(`${'word '.repeat(50)}`, 42);
    expect(cut).toBe('word word word word word word word […]');
    expect(cut.length).toBeLessThanOrEqual(42);
  });

  it('cuts mid-word when no boundary is near, never between the halves of a surrogate pair', () => {
    const emoji = '😀'.repeat(30);
    for (let max = 5; max < 30; max++) {
      const cut = boundedExcerpt(emoji, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(cut.endsWith(' […]')).toBe(true);
      // A lone high surrogate would show up as U+FFFD once encoded.
      expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
    }
  });

  it('redacts credentials of well-known shapes, even where the cut would fall', () => {
    const report = [
      'GitHub: ghp_abcdefghijklmnopqrstuvwxyz0123456789 and github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
      'OpenAI: sk-proj-abcdefghijklmnopqrstuvwxyz012345',
      'AWS: AKIAIOSFODNN7EXAMPLE',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
      'not secret: sk-short',
    ].join('\n');
    expect(boundedExcerpt(report, 1_000)).toBe(
      ['GitHub: [REDACTED] and [REDACTED]', 'OpenAI: [REDACTED]', 'AWS: [REDACTED]', '[REDACTED]', 'not secret: sk-short'].join('\n'),
    );
    expect(boundedExcerpt(`${'x'.repeat(20)} ghp_abcdefghijklmnopqrstuvwxyz0123456789`, 30)).not.toContain('ghp_');
  });
});

describe('boundedLine', () => {
  it('makes one line of it', () => {
    expect(boundedLine('Fix\n  the\ttotal\r\n', 100)).toBe('Fix the total');
  });
});
