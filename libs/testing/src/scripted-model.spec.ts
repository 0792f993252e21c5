import { request } from 'node:http';
import { startScriptedModel, toolOutputs, userTexts, type ScriptedModel } from './scripted-model';

describe('startScriptedModel', () => {
  let model: ScriptedModel | undefined;

  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  const post = (body: unknown, key = 'sk-scripted'): Promise<Response> =>
    fetch(`${model?.baseUrl}/responses`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** The data of every SSE event, in order. */
  async function events(answer: Response): Promise<Array<Record<string, unknown>>> {
    const text = await answer.text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
  }

  it('answers each POST with the next turn as Responses API events: created, one output item each, completed with usage', async () => {
    model = await startScriptedModel([{ items: [{ exec: 'ls -la' }, { message: 'listed' }], usage: { inputTokens: 40, cachedInputTokens: 4, outputTokens: 3 } }]);
    expect(model.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);

    const answer = await post({ input: [] });

    expect(answer.headers.get('content-type')).toBe('text/event-stream');
    const [created, call, message, completed, ...rest] = await events(answer);
    expect(rest).toEqual([]);
    expect(created).toMatchObject({ type: 'response.created' });
    expect(call).toMatchObject({ type: 'response.output_item.done', item: { type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd: 'ls -la' }) } });
    expect(message).toMatchObject({ type: 'response.output_item.done', item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'listed' }] } });
    expect(completed).toMatchObject({ type: 'response.completed', response: { usage: { input_tokens: 40, input_tokens_details: { cached_tokens: 4 }, output_tokens: 3, total_tokens: 43 } } });
    expect(model.remaining()).toBe(0);
  });

  it('computes a turn from the request, records every request, and helps read its messages and tool outputs', async () => {
    model = await startScriptedModel([(req) => ({ items: [{ message: `you said: ${userTexts(req).join(' / ')}; tool said: ${toolOutputs(req).join(' / ')}` }] })]);
    const input = [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
      { type: 'function_call_output', call_id: 'c1', output: 'total 0' },
    ];

    const [, item] = await events(await post({ input }));

    expect(item).toMatchObject({ item: { content: [{ text: 'you said: hello; tool said: total 0' }] } });
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0]).toMatchObject({ method: 'POST', url: '/v1/responses', body: { input } });
  });

  it('fails a request when the script is used up (400), on a scripted failure, and without the expected key (401)', async () => {
    model = await startScriptedModel([{ fail: { status: 503, message: 'overloaded' } }, { items: [{ message: 'ok' }] }], { apiKey: 'sk-scripted' });

    expect((await post({}, 'sk-wrong')).status).toBe(401);
    const failed = await post({});
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ error: { message: 'overloaded', type: 'scripted_model_error' } });
    expect((await post({})).status).toBe(200);
    const exhausted = await post({});
    expect(exhausted.status).toBe(400);
    expect(await exhausted.text()).toContain('the script is used up');
    expect(model.requests).toHaveLength(4);
  });

  it('turns a WebSocket upgrade down at once with 426', async () => {
    model = await startScriptedModel([]);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${model?.baseUrl}/responses`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
      req.on('response', (res) => resolve(res.statusCode));
      req.on('upgrade', (res) => resolve(res.statusCode));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(426);
  });
});
