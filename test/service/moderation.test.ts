import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/backends/model-registry.js';
import type { UserRow } from '../../src/db/schema.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import type { AdmissionCheck } from '../../src/service/admission.js';
import { createModerationCheck, type ModerationOptions, type ModerationRefusal } from '../../src/service/moderation.js';
import { createPromptBlocklist } from '../../src/service/prompt-blocklist.js';

const USER: UserRow = { id: 'user-1', name: 'alice', role: 'user', created_at: 0 };

function context(prompt: string, negativePrompt?: string) {
  return { user: USER, prompt, negativePrompt, model: {} as ModelConfig, request: {} };
}

async function outcome(check: AdmissionCheck, prompt: string, negativePrompt?: string): Promise<AtelierError | 'admitted'> {
  return check(context(prompt, negativePrompt)).then(
    () => 'admitted' as const,
    (error: unknown) => {
      if (error instanceof AtelierError) return error;
      throw error;
    },
  );
}

describe('createPromptBlocklist', () => {
  const list = createPromptBlocklist(['bad word', 'ass', 'Grue', 'ox']);

  it('matches a phrase across spacing, case, punctuation and accents, and written as one word', () => {
    for (const text of ['a bad word', 'Bad   Word!', 'bad-word', 'BAD_WORD', 'bad\nword', 'badword', 'BadWord', 'bàd wörd', 'ｂａｄ ｗｏｒｄ']) {
      expect(list.find(text), text).toBe('bad word');
    }
  });

  it('matches single words as whole words only', () => {
    for (const text of ['ass', 'an Ass.', 'ASS!', '(ass)', 'grue-like', 'the GRUE']) expect(list.find(text), text).toBeDefined();
    for (const text of ['class', 'a classic passage', 'assassin', 'asses', 'bass guitar', 'gruesome', 'box of oxen', 'bad', 'word', 'bad words', 'a word bad']) {
      expect(list.find(text), text).toBeUndefined();
    }
  });

  it('catches letter-spaced words of three or more letters', () => {
    for (const text of ['a s s', 'A.S.S', 'a-s-s', 'a_s_s', 'g r u e', 'b a d w o r d', 'this is g.r.u.e here']) expect(list.find(text), text).toBeDefined();
    // Shorter entries would match initials and lists ("o x"); a run with a neighbour is a different word.
    for (const text of ['o x', 'c l a s s', 'a b a d w o r d', 'J. R. R. Tolkien']) expect(list.find(text), text).toBeUndefined();
  });

  it('refuses an entry with no letters or digits', () => {
    expect(() => createPromptBlocklist(['ok', ' -- '])).toThrow("Expected words or phrases in moderation.blocklist but received ' -- '");
  });
});

describe('createModerationCheck with a blocklist', () => {
  it('refuses a blocklisted prompt with prompt_refused, without naming the term', async () => {
    const refusals: ModerationRefusal[] = [];
    const check = createModerationCheck({ blocklist: ['bad word'], onRefused: (r) => refusals.push(r) });
    const error = await outcome(check, 'A portrait, Bad-Word style');
    expect(error).toBeInstanceOf(AtelierError);
    const e = error as AtelierError;
    expect([e.status, e.code, e.field]).toEqual([422, 'prompt_refused', 'prompt']);
    expect(e.message).toBe("The prompt was refused by this server's content policy");
    expect(JSON.stringify(e.toJSON())).not.toMatch(/bad/i);
    expect(refusals).toEqual([{ source: 'blocklist', field: 'prompt', userId: 'user-1', detail: 'bad word' }]);
  });

  it('checks the negative prompt too, unless told not to', async () => {
    const error = await outcome(createModerationCheck({ blocklist: ['grue'] }), 'a cave', 'blurry, GRUE');
    expect(error).toMatchObject({ code: 'prompt_refused', field: 'negative_prompt', message: "The negative prompt was refused by this server's content policy" });
    expect(await outcome(createModerationCheck({ blocklist: ['grue'], checkNegativePrompt: false }), 'a cave', 'blurry, GRUE')).toBe('admitted');
  });

  it('admits clean prompts, including ones that contain blocked words inside other words', async () => {
    const check = createModerationCheck({ blocklist: ['ass', 'bad word'] });
    expect(await outcome(check, 'a classic brass passage, bad words', 'assorted')).toBe('admitted');
    expect(await outcome(check, '')).toBe('admitted');
  });
});

describe('createModerationCheck with an external service', () => {
  let server: http.Server;
  let origin: string;
  const received: { path: string; body: unknown; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(raw) as unknown, authorization: req.headers.authorization });
        const json = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
        switch (req.url) {
          case '/flag':
            return json(200, JSON.stringify({ flagged: true, reason: 'violence' }));
          case '/ok':
            return json(200, JSON.stringify({ flagged: false }));
          case '/error':
            return json(500, '{"error": "down"}');
          case '/garbage':
            return json(200, '{"verdict": "fine"}');
          case '/slow':
            return; // never answers
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function external(path: string, extra: Partial<ModerationOptions> = {}, failOpen?: boolean) {
    const refusals: ModerationRefusal[] = [];
    const errors: unknown[] = [];
    const check = createModerationCheck({
      blocklist: ['grue'],
      external: { url: `${origin}${path}`, timeoutMs: 300, headers: { authorization: 'Bearer moderation-key' }, ...(failOpen === undefined ? {} : { failOpen }) },
      onRefused: (r) => refusals.push(r),
      onExternalError: (e) => errors.push(e),
      ...extra,
    });
    return { check, refusals, errors };
  }

  it('refuses what the service flags, passing on its reason', async () => {
    const { check, refusals } = external('/flag');
    const error = await outcome(check, 'a duel', 'blurry');
    expect(error).toMatchObject({ code: 'prompt_refused', field: 'prompt', status: 422, details: { reason: 'violence' } });
    expect(received.at(-1)).toEqual({ path: '/flag', body: { prompt: 'a duel', negative_prompt: 'blurry' }, authorization: 'Bearer moderation-key' });
    expect(refusals).toEqual([{ source: 'external', field: 'prompt', userId: 'user-1', detail: 'violence' }]);
  });

  it('admits what the service does not flag', async () => {
    const { check, refusals } = external('/ok');
    expect(await outcome(check, 'a lighthouse')).toBe('admitted');
    expect(received.at(-1)?.body).toEqual({ prompt: 'a lighthouse', negative_prompt: null });
    expect(refusals).toEqual([]);
  });

  it('does not ask the service about a prompt the blocklist refused, or an empty one', async () => {
    const before = received.length;
    const { check } = external('/ok');
    expect(await outcome(check, 'a grue')).toMatchObject({ code: 'prompt_refused' });
    expect(await outcome(check, '  ')).toBe('admitted');
    expect(received.length).toBe(before);
  });

  it('fails closed by default: a timeout refuses the job with moderation_unavailable', async () => {
    const { check, refusals, errors } = external('/slow');
    const started = Date.now();
    const error = await outcome(check, 'a lighthouse');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toMatchObject({ code: 'moderation_unavailable', status: 503 });
    expect(refusals).toEqual([{ source: 'unavailable', field: 'prompt', userId: 'user-1' }]);
    expect(errors).toHaveLength(1);
  });

  it('fails closed on an error status or an answer without "flagged"', async () => {
    for (const path of ['/error', '/garbage']) {
      expect(await outcome(external(path).check, 'a lighthouse'), path).toMatchObject({ code: 'moderation_unavailable' });
    }
    const unreachable = createModerationCheck({ blocklist: [], external: { url: 'http://127.0.0.1:1/moderate', timeoutMs: 1000 } });
    expect(await outcome(unreachable, 'a lighthouse')).toMatchObject({ code: 'moderation_unavailable' });
  });

  it('fails open when configured: timeouts and errors admit the job, and are reported', async () => {
    for (const path of ['/slow', '/error', '/garbage']) {
      const { check, refusals, errors } = external(path, {}, true);
      expect(await outcome(check, 'a lighthouse'), path).toBe('admitted');
      expect(refusals).toEqual([]);
      expect(errors).toHaveLength(1);
    }
    // Failing open never skips the blocklist or a real verdict.
    expect(await outcome(external('/ok', {}, true).check, 'a grue')).toMatchObject({ code: 'prompt_refused' });
    expect(await outcome(external('/flag', {}, true).check, 'a duel')).toMatchObject({ code: 'prompt_refused' });
  });

  it('does not send the negative prompt when told not to check it', async () => {
    const { check } = external('/ok', { checkNegativePrompt: false });
    expect(await outcome(check, 'a cave', 'grue')).toBe('admitted');
    expect(received.at(-1)?.body).toEqual({ prompt: 'a cave', negative_prompt: null });
  });
});
