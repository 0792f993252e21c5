import { composeBody, fenceFor, GITHUB_BODY_LIMIT, sliceHead, sliceTail } from '../src/publish/pr-body';

const wellFormed = (text: string): boolean => Buffer.from(text, 'utf8').toString('utf8') === text;

describe('composeBody', () => {
  it('is the trimmed report when there is no transcript', () => {
    expect(composeBody({ report: 'Done.\n\n', transcript: '  \n' })).toEqual({ body: 'Done.', truncated: 'nothing' });
  });

  it('puts the extra line between the report and the transcript block', () => {
    expect(composeBody({ report: 'Failed.', extra: 'Branch: x', transcript: 'log' }).body).toBe(
      'Failed.\n\nBranch: x\n\n<details><summary>Agent transcript</summary>\n\n```text\nlog\n```\n\n</details>\n',
    );
  });

  it('fences the transcript with more backticks than it contains, so it cannot break out', () => {
    expect(fenceFor('no ticks')).toBe('```');
    expect(fenceFor('a ````` b ` c')).toBe('``````');
    const { body } = composeBody({ report: 'r', transcript: '```\n</details>\n```' });
    expect(body).toBe('r\n\n<details><summary>Agent transcript</summary>\n\n````text\n```\n</details>\n```\n````\n\n</details>\n');
  });

  it('keeps exactly GitHub\'s limit', () => {
    expect(GITHUB_BODY_LIMIT).toBe(65_536);
    const report = 'r'.repeat(100);
    const fits = composeBody({ report, transcript: 'x'.repeat(GITHUB_BODY_LIMIT - 173) });
    expect(fits.truncated).toBe('nothing');
    expect(fits.body.length).toBe(GITHUB_BODY_LIMIT);
    const over = composeBody({ report, transcript: 'x'.repeat(GITHUB_BODY_LIMIT - 172) });
    expect(over.truncated).toBe('transcript');
    expect(over.body.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
  });

  it.each([2_000, 2_001, 4_096, 9_999])('cuts the middle of the transcript to fit %i code units, on character boundaries, saying how much', (limit) => {
    const transcript = `FIRST LINE\n${'é😀'.repeat(5_000)}\nLAST LINE\n`;
    const { body, truncated } = composeBody({ report: '# Report\n\nAll good.', transcript }, limit);

    expect(truncated).toBe('transcript');
    expect(body.length).toBeLessThanOrEqual(limit);
    expect(body.length).toBeGreaterThan(limit - 80);
    expect(wellFormed(body)).toBe(true);
    expect(body.startsWith('# Report\n\nAll good.\n\n<details><summary>Agent transcript</summary>\n\n_The transcript is cut')).toBe(true);
    expect(body).toContain('```text\nFIRST LINE\n');
    expect(body.endsWith('\nLAST LINE\n```\n\n</details>\n')).toBe(true);
    const omitted = Number(/\((\d+) characters omitted\)/.exec(body)?.[1]);
    const kept = /```text\n([\s\S]*)\n\[… \d+ characters omitted …\]\n([\s\S]*)```\n\n<\/details>\n$/.exec(body);
    expect(kept).not.toBeNull();
    expect((kept?.[1] ?? '').length + (kept?.[2] ?? '').length + omitted).toBe(transcript.length);
    expect(body).toContain(`[… ${omitted} characters omitted …]`);
  });

  it('omits the transcript when the report leaves too little room for it', () => {
    const { body, truncated } = composeBody({ report: 'r'.repeat(1_500), transcript: 't'.repeat(5_000) }, 2_000);
    expect(truncated).toBe('transcript-omitted');
    expect(body).toBe(`${'r'.repeat(1_500)}\n\n_The transcript is omitted to fit GitHub's 2000-character limit; the full transcript is agent-meta/transcript.md in the job's uploaded results._`);
  });

  it('cuts an oversized report last, on a character boundary, and says so', () => {
    const report = '😀'.repeat(3_000);
    const { body, truncated } = composeBody({ report, transcript: 'log' }, 2_001);
    expect(truncated).toBe('report');
    expect(body.length).toBeLessThanOrEqual(2_001);
    expect(wellFormed(body)).toBe(true);
    expect(body).toMatch(/^(?:😀)+\n\n_The report is cut to fit GitHub's 2001-character limit; the full report is agent-meta\/ending-report.md and /u);
  });
});

describe('sliceHead / sliceTail', () => {
  it('never split a surrogate pair', () => {
    const text = 'a😀b';
    expect(sliceHead(text, 2)).toBe('a');
    expect(sliceHead(text, 3)).toBe('a😀');
    expect(sliceTail(text, 2)).toBe('b');
    expect(sliceTail(text, 3)).toBe('😀b');
    expect(sliceHead(text, 99)).toBe(text);
    expect(sliceTail(text, 0)).toBe('');
  });
});
