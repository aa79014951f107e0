import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const SMALL = { width: 64, height: 64, steps: 2 };

describe('GET /api/images/history: search by prompt (q) and saved state (libraryId)', () => {
  let t: InjectServer;
  let user: ApiClient;
  let other: ApiClient;

  beforeAll(async () => {
    t = await startInjectServer();
    user = apiClient(t, (await t.addUser('searcher')).token);
    other = apiClient(t, (await t.addUser('neighbour')).token);
    await user.generate({ ...SMALL, prompt: 'A Lighthouse at dusk', num_images: 2, seed: 1 });
    await user.generate({ ...SMALL, prompt: 'a fox, 100% orange', seed: 2 });
    await user.generate({ ...SMALL, prompt: 'lighthouse_keeper portrait', seed: 3 });
    await other.generate({ ...SMALL, prompt: 'a lighthouse too', seed: 4 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const search = async (query: string) => {
    const res = await user.get(`/api/images/history?${query}`);
    expect(res.status, res.text).toBe(200);
    return { prompts: res.body.images.map((i: any) => i.prompt), total: res.body.total };
  };

  it("returns the caller's images whose prompt contains the text, in any case, with the count of matches", async () => {
    expect(await search('q=LIGHTHOUSE')).toEqual({ prompts: ['lighthouse_keeper portrait', 'A Lighthouse at dusk', 'A Lighthouse at dusk'], total: 3 });
    expect(await search(`q=${encodeURIComponent('  fox ')}`)).toEqual({ prompts: ['a fox, 100% orange'], total: 1 });
    expect(await search('q=whale')).toEqual({ prompts: [], total: 0 });
  });

  it('treats % and _ as plain characters and an empty q as no filter', async () => {
    expect(await search(`q=${encodeURIComponent('%')}`)).toEqual({ prompts: ['a fox, 100% orange'], total: 1 });
    expect(await search('q=e_k')).toEqual({ prompts: ['lighthouse_keeper portrait'], total: 1 });
    expect((await search('q=')).total).toBe(4);
  });

  it('pages and filters the matches like the rest of the history', async () => {
    const first = await search('q=lighthouse&perPage=2&page=1');
    const second = await search('q=lighthouse&perPage=2&page=2');
    expect([...first.prompts, ...second.prompts]).toEqual(['lighthouse_keeper portrait', 'A Lighthouse at dusk', 'A Lighthouse at dusk']);
    expect(second.total).toBe(3);
    expect(await search('q=lighthouse&collection=library')).toEqual({ prompts: [], total: 0 });
  });

  it('refuses a search longer than 200 characters with a 422 naming q', async () => {
    const res = await user.get(`/api/images/history?q=${'a'.repeat(201)}`);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('invalid_parameter');
    expect(res.text).toContain('q');
  });

  it('names the library copy of each workspace item saved already (libraryId), null for the others', async () => {
    const fox = (await user.get('/api/images/history?q=fox')).body.images[0];
    expect(fox.libraryId).toBeNull();
    const saved = await user.post(`/api/images/${fox.id}/save`);
    expect(saved.status, saved.text).toBe(201);
    const workspace = (await user.get('/api/images/history?collection=workspace')).body.images;
    expect(workspace.map((i: any) => [i.prompt, i.libraryId])).toEqual([
      ['lighthouse_keeper portrait', null],
      ['a fox, 100% orange', saved.body.id],
      ['A Lighthouse at dusk', null],
      ['A Lighthouse at dusk', null],
    ]);
    const library = (await user.get('/api/images/history?collection=library')).body.images;
    expect(library.map((i: any) => [i.id, i.libraryId])).toEqual([[saved.body.id, saved.body.id]]);
  });
});
