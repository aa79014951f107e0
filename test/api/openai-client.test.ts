import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

async function pngParameters(png: Buffer): Promise<string> {
  const chunk = (await sharp(png).metadata()).comments?.find((c) => c.keyword === 'parameters');
  if (!chunk) throw new Error('no parameters chunk');
  return chunk.text;
}

/** Runs `fn` and returns what it threw (failing the test if it did not throw). */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('POST /v1/images/generations with the official OpenAI client', () => {
  let t: TestServer;
  let client: OpenAI;

  beforeAll(async () => {
    // A socket: the official openai client needs a base URL, and fetches the media URLs it gets.
    t = await startTestServer();
    const user = await t.addUser('openai-user');
    client = new OpenAI({ apiKey: user.token, baseURL: `${t.url}/v1`, maxRetries: 0, timeout: 20_000 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('returns n base64 PNGs of the requested size', async () => {
    const result = await client.images.generate({ prompt: 'a copper teapot', size: '512x512', response_format: 'b64_json', n: 2, steps: 3 } as ImageGenerateParamsNonStreaming);
    expect(typeof result.created).toBe('number');
    expect(Math.abs(result.created - Date.now() / 1000)).toBeLessThan(120);
    expect(result.data).toHaveLength(2);
    const pngs = result.data!.map((item) => {
      expect(item.url).toBeUndefined();
      expect(item.revised_prompt).toBe('a copper teapot');
      return Buffer.from(item.b64_json!, 'base64');
    });
    for (const png of pngs) {
      const meta = await sharp(png).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    }
    // Two different images, consecutive seeds.
    expect(pngs[0]!.equals(pngs[1]!)).toBe(false);
    const seeds = result.data!.map((item) => (item as unknown as { seed: number }).seed);
    expect(seeds[1]).toBe(seeds[0]! + 1);
    expect(await pngParameters(pngs[1]!)).toContain(`Seed: ${seeds[1]},`);
  });

  it('returns signed URLs that serve PNGs without a token', async () => {
    const result = await client.images.generate({ prompt: 'a glass marble', size: '256x256', response_format: 'url', steps: 3 } as ImageGenerateParamsNonStreaming);
    expect(result.data).toHaveLength(1);
    const url = result.data![0]!.url!;
    expect(url).toMatch(new RegExp(`^${t.url}/media/.+\\?.*signature=`));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256]);
  });

  it('defaults to URLs and the default model when neither is given', async () => {
    const result = await client.images.generate({ prompt: 'a paper crane', size: '256x256', steps: 2 } as ImageGenerateParamsNonStreaming);
    const url = result.data![0]!.url!;
    expect(url).toBeTruthy();
    const png = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(await pngParameters(png)).toMatch(/Model: preview/);
  });

  it('accepts the default model by name', async () => {
    const result = await client.images.generate({ model: 'preview', prompt: 'a tin robot', size: '256x256', response_format: 'b64_json', steps: 2 } as ImageGenerateParamsNonStreaming);
    expect(result.data).toHaveLength(1);
  });

  it('honours the seed-003 extras negative_prompt, steps and seed', async () => {
    const params = {
      prompt: 'a velvet armchair',
      size: '256x256',
      response_format: 'b64_json',
      negative_prompt: 'dust',
      steps: 6,
      seed: 4242,
    } as unknown as ImageGenerateParamsNonStreaming;
    const result = await client.images.generate(params);
    const png = Buffer.from(result.data![0]!.b64_json!, 'base64');
    const lines = (await pngParameters(png)).split('\n');
    expect(lines[0]).toBe('a velvet armchair');
    expect(lines[1]).toBe('Negative prompt: dust');
    expect(lines[2]).toContain('Steps: 6, Sampler: Euler, CFG scale: 7.5, Seed: 4242, Size: 256x256, Model: preview');
    expect((result.data![0] as unknown as { seed: number }).seed).toBe(4242);
  });

  it('rejects an unknown model with a 422 APIError listing the available models', async () => {
    const error = await thrown(() => client.images.generate({ model: 'dall-e-3', prompt: 'anything', size: '256x256' }));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(422);
    expect(apiError.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'unknown_model' });
    expect((apiError.error as { message: string }).message).toContain('preview');
    expect(apiError.message).toContain('dall-e-3');
    expect(apiError.message).toContain('preview');
    expect(apiError.code).toBe('unknown_model');
  });

  it('rejects a bad token with an AuthenticationError', async () => {
    const bad = new OpenAI({ apiKey: 'not-a-token', baseURL: `${t.url}/v1`, maxRetries: 0 });
    const error = await thrown(() => bad.images.generate({ prompt: 'anything', size: '256x256' }));
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(401);
    expect(apiError.error).toMatchObject({ type: 'authentication_error', code: 'unauthorized' });
  });

  it('rejects invalid parameters with the OpenAI error shape', async () => {
    const error = await thrown(() => client.images.generate({ prompt: 'anything', size: '256x256', n: 9 }));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(422);
    expect(apiError.error).toMatchObject({ type: 'invalid_request_error', param: 'n', code: 'invalid_parameter' });
  });

  it('answers raw errors as {error:{message,type,param,code}}', async () => {
    const res = await fetch(`${t.url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', size: '300x300', bogus: 1 }),
    });
    expect(res.status).toBe(422);
    const body: any = await res.json();
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error).toMatchObject({ code: 'unknown_field', param: 'bogus', type: 'invalid_request_error' });

    const unauth = await fetch(`${t.url}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toMatchObject({ error: { type: 'authentication_error', code: 'unauthorized', param: null } });
  });

  it('rejects a size that is not a multiple of 8', async () => {
    const error = await thrown(() => client.images.generate({ prompt: 'anything', size: '300x300' }));
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(422);
    expect(apiError.error).toMatchObject({ param: 'width', code: 'invalid_parameter' });
  });
});

// The client retries a 409 or a 5xx twice by default, and every retry of a generation is a new
// run: a run that timed out of the wait (and goes on), was canceled or failed after its own
// attempts must not be submitted again behind the caller's back.
describe('the official OpenAI client does not submit a run again after a final answer', () => {
  let t: TestServer;
  let client: OpenAI;
  let token: string;

  beforeAll(async () => {
    // No runner: runs stay queued, so the wait ends at SYNC_TIMEOUT_SECONDS or by a cancel.
    t = await startTestServer({ RUNNER_CONCURRENCY: '0', SYNC_TIMEOUT_SECONDS: '1' });
    token = (await t.addUser('openai-retries')).token;
    // The client's defaults, retries included.
    client = new OpenAI({ apiKey: token, baseURL: `${t.url}/v1`, timeout: 20_000 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const runs = async (): Promise<Array<{ runId: string; status: string }>> =>
    ((await (await fetch(`${t.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).json()) as { runs: Array<{ runId: string; status: string }> }).runs;

  it('a 504 for a run still going on: one run, and the answer says not to retry', async () => {
    const before = (await runs()).length;
    const error = (await thrown(() => client.images.generate({ prompt: 'slow to start', size: '64x64' }))) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(504);
    expect(error.code).toBe('backend_timeout');
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect((await runs()).length).toBe(before + 1);
  });

  it('a 409 for a run canceled while the client waited: one run, not a fresh one that succeeds', async () => {
    const before = new Set((await runs()).map((r) => r.runId));
    const pending = thrown(() => client.images.generate({ prompt: 'canceled by someone', size: '64x64' }));
    let runId: string | undefined;
    while (runId === undefined) {
      runId = (await runs()).find((r) => !before.has(r.runId))?.runId;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await fetch(`${t.url}/api/runs/${runId}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` } })).status).toBe(200);
    const error = (await pending) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(409);
    expect(error.code).toBe('job_canceled');
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect((await runs()).filter((r) => !before.has(r.runId)).map((r) => r.runId)).toEqual([runId]);
  });
});
