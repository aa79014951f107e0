import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

describe('health, metrics, models and OpenAPI', () => {
  let t: InjectServer;
  let admin: ApiClient;
  let anon: ApiClient;

  beforeAll(async () => {
    t = await startInjectServer();
    admin = apiClient(t, t.adminToken);
    anon = apiClient(t, null);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers /healthz without a token', async () => {
    const res = await anon.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz without a token when the database answers', async () => {
    const res = await anon.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('requires a token for /metrics', async () => {
    const res = await anon.get('/metrics');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized' });
  });

  it('serves Prometheus metrics to the admin, counting submitted jobs', async () => {
    const done = await admin.generate({ prompt: 'a metric tonne of feathers', width: 256, height: 256, steps: 2 });
    expect(done.status).toBe('succeeded');
    const res = await admin.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toContain('# TYPE atelier_jobs_submitted_total counter');
    expect(res.text).toMatch(/^atelier_jobs_submitted_total\{mode="t2i",model="preview"\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^atelier_jobs_finished_total\{status="succeeded",model="preview"\} [1-9]\d*$/m);
    expect(res.text).toContain('atelier_queue_jobs');
  });

  it('counts what a job costs: statements, storage requests by kind, fsyncs and requests by route', async () => {
    const scrape = async () => (await admin.get('/metrics')).text as string;
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = await scrape();
    const done = await admin.generate({ prompt: 'counted', width: 64, height: 64, steps: 1 });
    expect(done.status).toBe('succeeded');
    const after = await scrape();
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('atelier_db_statements_total')).toBeGreaterThan(5);
    // One image: original, thumbnail and two delivery variants, each fsynced, plus their directory.
    expect(delta('atelier_storage_requests_total{op="put"}')).toBe(4);
    expect(delta('atelier_storage_fsyncs_total')).toBeGreaterThanOrEqual(5);
    expect(delta('atelier_http_requests_total{route="/api/generate/text-to-image",method="POST"}')).toBe(1);
  });

  it('lists the preview model with its label, defaults and limits', async () => {
    const res = await admin.get('/api/models');
    expect(res.status).toBe(200);
    const preview = res.body.models.find((m: any) => m.name === 'preview');
    expect(preview).toBeDefined();
    expect(preview.label).toMatch(/[Pp]review renderer/);
    expect(preview).toMatchObject({
      default: true,
      modes: ['t2i', 'i2i'],
      backend: { kind: 'builtin' },
      defaults: { width: 1024, height: 1024, steps: 30, cfgScale: 7.5, sampler: 'Euler' },
      limits: { maxWidth: 2048, maxHeight: 2048, maxSteps: 150, maxImages: 8 },
    });
    expect(preview.samplers).toContain('Euler');
    expect(res.body.models.filter((m: any) => m.default)).toHaveLength(1);
    expect(res.body.models.map((m: any) => m.name)).toEqual(['preview', 'preview-t2v', 'preview-i2v', 'preview-ti2v']);
  });

  describe('/openapi.json', () => {
    let doc: any;
    beforeAll(async () => {
      const res = await anon.get('/openapi.json');
      expect(res.status).toBe(200);
      doc = res.body;
    });

    it('is an OpenAPI 3.x document', () => {
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    });

    it('documents the text-to-image body strictly', () => {
      const op = doc.paths['/api/generate/text-to-image']?.post;
      expect(op).toBeDefined();
      const schema = op.requestBody.content['application/json'].schema;
      expect(schema.additionalProperties).toBe(false);
      expect(schema.required).toContain('prompt');
      expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['prompt', 'negative_prompt', 'width', 'height', 'steps', 'seed', 'num_images', 'aspect_ratio']));
      expect(schema.properties.steps).toMatchObject({ type: 'integer', minimum: 1, maximum: 150 });
      expect(op.responses['202']).toBeDefined();
      expect(op.responses['422']).toBeDefined();
      expect(op.parameters?.some((p: any) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key')).toBe(true);
      expect(op.security).toEqual([{ bearerAuth: [] }]);
    });

    it('documents runs, images and the OpenAI-compatible route', () => {
      const paths = Object.keys(doc.paths);
      expect(paths).toEqual(
        expect.arrayContaining([
          '/api/status/{runId}',
          '/api/status/stream/{runId}',
          '/api/runs/{runId}/cancel',
          '/api/images/history',
          '/api/images/{id}',
          '/api/images/{id}/file',
          '/api/models',
          '/v1/images/generations',
        ]),
      );
      expect(doc.paths['/api/status/{runId}'].get).toBeDefined();
      expect(doc.paths['/api/images/history'].get).toBeDefined();
      expect(doc.paths['/api/images/{id}'].delete).toBeDefined();
      const openai = doc.paths['/v1/images/generations'].post;
      expect(Object.keys(openai.requestBody.content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['prompt', 'n', 'size', 'response_format']));
    });

    it('hides internal routes', () => {
      expect(Object.keys(doc.paths).some((p) => p.startsWith('/media'))).toBe(false);
      expect(doc.paths['/openapi.json']).toBeUndefined();
    });
  });
});
