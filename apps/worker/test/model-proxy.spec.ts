import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startScriptedModel, type ScriptedModel } from '@agent-conductor/testing';
import { ModelProxy } from '../src/model-proxy/model-proxy';
import { lowestBudget } from '../src/model-proxy/model-proxy.service';

const API_KEY = 'sk-proj-proxy5e1d9c3b7a2f4e6d8c0b1a3f5e7d9c2b';

describe('ModelProxy', () => {
  let model: ScriptedModel | undefined;
  let proxy: ModelProxy | undefined;
  let upstream: Server | undefined;

  afterEach(async () => {
    await proxy?.close();
    await model?.close();
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    upstream?.closeAllConnections();
    proxy = undefined;
    model = undefined;
    upstream = undefined;
  });

  async function proxyTo(upstreamBaseUrl: string, options: { maxTokens?: number; maxRequestBytes?: number } = {}): Promise<ModelProxy> {
    proxy = await new ModelProxy({ upstreamBaseUrl, readApiKey: () => API_KEY, maxTokens: options.maxTokens, ...(options.maxRequestBytes ? { maxRequestBytes: options.maxRequestBytes } : {}) }).start();
    return proxy;
  }

  const post = (p: ModelProxy, key: string, body: string = JSON.stringify({ model: 'gpt-test', input: [] })): Promise<Response> =>
    fetch(`${p.baseUrl}/responses`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });

  it('listens on loopback only and hands out a run key that is not the real key', async () => {
    model = await startScriptedModel([], { apiKey: API_KEY });
    const p = await proxyTo(model.baseUrl);

    expect(p.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(p.runKey).toMatch(/^acp-run-[0-9a-f]{48}$/);
    expect(p.runKey).not.toContain(API_KEY);
  });

  it('refuses a wrong key, and the real key too, without reaching the model API', async () => {
    model = await startScriptedModel([{ items: [{ message: 'hi' }] }], { apiKey: API_KEY });
    const p = await proxyTo(model.baseUrl);

    for (const key of ['acp-run-guess', API_KEY, '']) {
      const answer = await post(p, key);
      expect(answer.status).toBe(401);
      expect(await answer.json()).toEqual({ error: expect.objectContaining({ message: 'model proxy: wrong or missing API key' }) });
    }
    expect(model.requests).toEqual([]);
  });

  it('forwards with the real key in place of the run key, streams the answer back and meters its usage', async () => {
    model = await startScriptedModel([{ items: [{ message: 'hi' }], usage: { inputTokens: 120, cachedInputTokens: 20, outputTokens: 7 } }], { apiKey: API_KEY });
    const p = await proxyTo(model.baseUrl);

    const answer = await post(p, p.runKey);

    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain('event: response.completed');
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0]?.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(model.requests[0]?.text).not.toContain(p.runKey);
    expect(p.usage()).toEqual({ inputTokens: 120, cachedInputTokens: 20, outputTokens: 7, totalTokens: 127, responses: 1 });
  });

  it('passes events through as they come, before the model API has finished its answer', async () => {
    let finish: (() => void) | undefined;
    upstream = createServer((req, res: ServerResponse) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ type: 'response.created', response: { id: 'r1' } })}\n\n`);
      finish = () => {
        // The final event split mid-line across two writes: the meter must join them.
        const completed = `data: ${JSON.stringify({ type: 'response.completed', response: { id: 'r1', usage: { input_tokens: 50, output_tokens: 5 } } })}\n\n`;
        res.write(completed.slice(0, 30));
        setTimeout(() => res.end(completed.slice(30)), 20);
      };
    });
    await new Promise<void>((resolve) => upstream?.listen(0, '127.0.0.1', () => resolve()));
    const p = await proxyTo(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`);

    const answer = await post(p, p.runKey);
    const reader = answer.body?.getReader();
    if (!reader) throw new Error('no body');
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('response.created');
    expect(finish).toBeDefined();
    expect(p.usage().responses).toBe(0);

    finish?.();
    while (!(await reader.read()).done) {
      // drain
    }
    expect(p.usage()).toMatchObject({ inputTokens: 50, outputTokens: 5, totalTokens: 55, responses: 1 });
  });

  it('refuses every request once the budget is spent, with a budget exceeded error codex does not retry (400)', async () => {
    model = await startScriptedModel([{ items: [{ message: 'one' }], usage: { inputTokens: 90, outputTokens: 20 } }, { items: [{ message: 'two' }] }], { apiKey: API_KEY });
    const p = await proxyTo(model.baseUrl, { maxTokens: 100 });
    expect(p.budgetSpent()).toBeUndefined();

    expect((await post(p, p.runKey)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.budgetSpent()).toBe('budget exceeded: the job used 110 tokens of its budget of 100');
    expect(p.budgetRefusal()).toBeUndefined();

    const refused = await post(p, p.runKey);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: { message: 'budget exceeded: the job used 110 tokens of its budget of 100', type: 'budget_exceeded', code: 'budget_exceeded' } });
    expect(p.budgetRefusal()).toBe('budget exceeded: the job used 110 tokens of its budget of 100');
    expect(model.requests).toHaveLength(1);
  });

  it('refuses a request body over the limit, declared or streamed', async () => {
    model = await startScriptedModel([{ items: [{ message: 'one' }] }, { items: [{ message: 'two' }] }], { apiKey: API_KEY });
    const p = await proxyTo(model.baseUrl, { maxRequestBytes: 1024 });
    const big = JSON.stringify({ input: 'x'.repeat(4096) });

    const declared = await post(p, p.runKey, big);
    expect(declared.status).toBe(413);

    // Chunked, with no Content-Length: the limit is counted as the bytes pass.
    const chunks = [big.slice(0, 2048), big.slice(2048)];
    const streamed = await fetch(`${p.baseUrl}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.runKey}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: 'half',
    } as RequestInit & { duplex: 'half' }).catch((error: unknown) => error);
    expect(streamed instanceof Response ? streamed.status : String(streamed)).toBe(413);
    expect(model.requests.filter((request) => request.text.length > 1024)).toEqual([]);
  });

  it('answers 502 when the model API cannot be reached', async () => {
    const p = await proxyTo('http://127.0.0.1:1/v1');
    const answer = await post(p, p.runKey);
    expect(answer.status).toBe(502);
    expect(((await answer.json()) as { error: { message: string } }).error.message).toContain('model proxy: the model API did not answer');
  });

  it('takes the lower of the worker budget and the route budget; 0 means none', () => {
    expect(lowestBudget(undefined, undefined)).toBeUndefined();
    expect(lowestBudget(undefined, 0)).toBeUndefined();
    expect(lowestBudget(5000, 0)).toBe(5000);
    expect(lowestBudget(5000, 300)).toBe(300);
    expect(lowestBudget(undefined, 300)).toBe(300);
  });
});
