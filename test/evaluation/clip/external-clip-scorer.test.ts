import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipScorer } from '../../../src/evaluation/clip/create-clip-scorer.js';
import { createExternalClipScorer } from '../../../src/evaluation/clip/external-clip-scorer.js';

/** A stand-in evaluator: `/evaluate` scores by prompt length; other paths misbehave on purpose. */
async function startEvaluator() {
  const seen: { path: string; method: string; type: string | undefined; body: { image_b64: string; prompt: string } }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '';
      if (path.startsWith('/slow/')) return; // never answers
      const body = JSON.parse(raw) as { image_b64: string; prompt: string };
      seen.push({ path, method: req.method ?? '', type: req.headers['content-type'], body });
      if (path.startsWith('/broken/')) return void res.writeHead(500).end('boom');
      if (path.startsWith('/nonsense/')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"clip_score":"high"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clip_score: 20 + body.prompt.length / 10 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

describe('external CLIP scorer', () => {
  let evaluator: Awaited<ReturnType<typeof startEvaluator>>;
  const png = Buffer.from('\x89PNG pretend', 'latin1');
  beforeAll(async () => {
    evaluator = await startEvaluator();
  });
  afterAll(() => evaluator.close());

  it('posts the base64 image and prompt to {url}/evaluate and returns clip_score', async () => {
    const scorer = createExternalClipScorer({ url: `${evaluator.origin}/` });
    expect(await scorer.score(png, 'a lighthouse at dusk')).toBeCloseTo(22, 10);
    const last = evaluator.seen.at(-1)!;
    expect(last).toMatchObject({ path: '/evaluate', method: 'POST', type: 'application/json', body: { prompt: 'a lighthouse at dusk' } });
    expect(Buffer.from(last.body.image_b64, 'base64').equals(png)).toBe(true);
  });

  it('is what createClipScorer builds for a url', async () => {
    const scorer = await createClipScorer({ url: evaluator.origin, timeoutMs: 2000 });
    expect(await scorer!.score(png, 'x')).toBeCloseTo(20.1, 10);
  });

  it('gives up after the timeout with a message saying so', async () => {
    const scorer = createExternalClipScorer({ url: `${evaluator.origin}/slow`, timeoutMs: 150 });
    const started = Date.now();
    await expect(scorer.score(png, 'x')).rejects.toThrow(/CLIP evaluator .*\/slow\/evaluate failed: no answer within 150 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails on an HTTP error or a malformed answer', async () => {
    await expect(createExternalClipScorer({ url: `${evaluator.origin}/broken` }).score(png, 'x')).rejects.toThrow(/answered HTTP 500/);
    await expect(createExternalClipScorer({ url: `${evaluator.origin}/nonsense` }).score(png, 'x')).rejects.toThrow('Expected a finite number for clip_score');
  });

  it('fails clearly when nothing listens', async () => {
    const closed = await startEvaluator();
    await closed.close();
    await expect(createExternalClipScorer({ url: closed.origin }).score(png, 'x')).rejects.toThrow(/CLIP evaluator .* failed/);
  });
});
