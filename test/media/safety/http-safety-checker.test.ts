import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpSafetyChecker } from '../../../src/media/safety/http-safety-checker.js';
import { closedPortUrl, startSafetyChecker } from '../../helpers/safety-checker.js';

const pixels = { data: Buffer.alloc(224 * 224 * 3, 200), width: 224, height: 224 };

describe('the external safety checker', () => {
  let checker: Awaited<ReturnType<typeof startSafetyChecker>>;
  beforeAll(async () => {
    checker = await startSafetyChecker();
  });
  afterAll(() => checker.close());

  it('POSTs the picture as a base64 PNG in image_b64 and returns its verdict and scores, missing classes as 0', async () => {
    const result = await createHttpSafetyChecker({ url: `${checker.origin}/flag` }).classify(pixels);
    expect(result).toEqual({ model: `external:${new URL(checker.origin).host}`, flagged: true, scores: { drawing: 0, hentai: 0, neutral: 0.1, porn: 0.9, sexy: 0 } });
    const sent = checker.seen.at(-1)!;
    expect(sent.contentType).toBe('application/json');
    const png = Buffer.from(sent.body.image_b64 as string, 'base64');
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 224, height: 224 });
  });

  it('returns a clean verdict as such', async () => {
    expect((await createHttpSafetyChecker({ url: `${checker.origin}/clean` }).classify(pixels)).flagged).toBe(false);
  });

  it('throws on an HTTP error, an answer without a boolean flagged, a timeout and a checker that is down', async () => {
    await expect(createHttpSafetyChecker({ url: `${checker.origin}/broken` }).classify(pixels)).rejects.toThrow(/answered HTTP 500/);
    await expect(createHttpSafetyChecker({ url: `${checker.origin}/nonsense` }).classify(pixels)).rejects.toThrow(/Expected a boolean 'flagged'/);
    await expect(createHttpSafetyChecker({ url: `${checker.origin}/slow`, timeoutMs: 100 }).classify(pixels)).rejects.toThrow(/no answer within 100 ms/);
    await expect(createHttpSafetyChecker({ url: await closedPortUrl() }).classify(pixels)).rejects.toThrow(/Safety checker .* failed/);
  });
});
