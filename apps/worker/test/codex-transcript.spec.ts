import { redactor, Transcript } from '../src/agent/transcript';

const identity = (text: string): string => text;

describe('Transcript', () => {
  it('stays under its byte bound by dropping whole entries from the start and says so', () => {
    const transcript = new Transcript('/work', identity, 4_096);
    for (let i = 0; i < 100; i++) {
      transcript.record({ type: 'item.completed', item: { id: `m${i}`, type: 'agent_message', text: `message ${i} ${'x'.repeat(100)}` } });
    }
    const rendered = transcript.render();

    expect(Buffer.byteLength(rendered)).toBeLessThanOrEqual(4_096 + 200);
    expect(rendered).toContain('message 99 ');
    expect(rendered).not.toContain('message 0 ');
    expect(rendered).toMatch(/^# Codex transcript\n\n_\d+ earlier entries omitted to stay under 4 KiB\._\n/);
  });

  it('keeps the tail of long command output and fences output that itself contains fences', () => {
    const transcript = new Transcript('/work', identity);
    const output = [...Array.from({ length: 100 }, (_, i) => `line ${i}`), '```', 'done'].join('\n');
    transcript.record({
      type: 'item.completed',
      item: { id: 'c1', type: 'command_execution', command: 'npm test', aggregated_output: output, exit_code: 2, status: 'failed' },
    });
    const rendered = transcript.render();

    expect(rendered).toContain('**Command** (exit 2):\n\n````\n$ npm test\n… (62 earlier lines omitted)\nline 62\n');
    expect(rendered).toContain('line 99\n```\ndone\n````');
    expect(rendered).not.toContain('line 61\n');
  });

  it('shows paths relative to the work dir, plans, tool calls, searches and errors', () => {
    const transcript = new Transcript('/work', identity);
    transcript.record({ type: 'thread.started', thread_id: 'th_1' });
    transcript.record({ type: 'item.completed', item: { id: 'f', type: 'file_change', changes: [{ path: '/work/repo/a.ts', kind: 'update' }, { path: '/etc/hosts', kind: 'delete' }], status: 'failed' } });
    transcript.record({ type: 'item.completed', item: { id: 't', type: 'todo_list', items: [{ text: 'read code', completed: true }, { text: 'fix', completed: false }] } });
    transcript.record({ type: 'item.completed', item: { id: 'm', type: 'mcp_tool_call', server: 'docs', tool: 'search', arguments: {}, status: 'failed', error: { message: 'offline' } } });
    transcript.record({ type: 'item.completed', item: { id: 'w', type: 'web_search', query: 'rounding half even' } });
    transcript.record({ type: 'error', message: 'reconnecting\n2/5' });
    const rendered = transcript.render();

    expect(rendered).toContain('_Thread `th_1`_');
    expect(rendered).toContain('**Files** (patch failed): update `repo/a.ts`, delete `/etc/hosts`');
    expect(rendered).toContain('**Plan:**\n\n- [x] read code\n- [ ] fix');
    expect(rendered).toContain('**Tool call** `docs.search` (failed): offline');
    expect(rendered).toContain('**Web search:** rounding half even');
    expect(rendered).toContain('**Error:** reconnecting 2/5');
  });

  it('redacts every secret, longest first, wherever it appears', () => {
    const redact = redactor(['sk-abc', 'sk-abc-longer', undefined, '']);
    expect(redact('a sk-abc-longer b sk-abc c')).toBe('a [REDACTED] b [REDACTED] c');
    const transcript = new Transcript('/work', redact);
    transcript.record({ type: 'turn.failed', error: { message: 'bad key sk-abc-longer' } });
    expect(transcript.render()).toContain('**Turn failed:** bad key [REDACTED]');
    expect(transcript.render()).not.toContain('sk-abc');
  });
});
