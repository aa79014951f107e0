import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateCost } from '../../../src/jobs/cost';
import { costInputFor, estimateBody, pricingOf } from '../../../web/src/features/generate/cost';
import { formReducer, INITIAL_FORM, type FormState } from '../../../web/src/features/generate/form-state';
import type { ModelInfo } from '../../../web/src/features/generate/models';
import { schemaProblems } from '../../../web/src/features/generate/problems';
import { requestFor } from '../../../web/src/features/generate/request-body';
import type { OpenApiDocument } from '../../../web/src/features/generate/schema-check';
import { client, startRealServer, type RealServer } from './real-server';

/**
 * The form's requests against a real server: the bodies it builds pass the server's own
 * OpenAPI schema and are accepted, and the live estimate (cost.ts in the browser) equals
 * both POST /api/estimate and the cost the server records with the job.
 */
describe('Generate form against the real API', () => {
  let t: RealServer;
  let api: ReturnType<typeof client>;
  let models: ModelInfo[];
  let openapi: OpenApiDocument;

  beforeAll(async () => {
    t = await startRealServer();
    api = client(t);
    models = (await api.get('/api/models')).body.models;
    openapi = (await api.get('/openapi.json')).body;
  });
  afterAll(async () => {
    await t?.close();
  });

  const formFor = (tab: FormState['tab'], patch: Partial<FormState>) => {
    let form = formReducer({ ...INITIAL_FORM }, { type: 'init', models });
    form = formReducer(form, { type: 'tab', tab, models });
    return { ...form, ...patch };
  };

  const cases: [string, FormState['tab'], Partial<FormState>][] = [
    ['text to image, 16:9, 2 images, hires fix, fixed seed', 't2i', { prompt: 'a red fox', aspectRatio: '16:9', numImages: 2, hiresFix: true, seed: 7, seedLocked: true, steps: 12 }],
    ['text to image with the model defaults', 't2i', { prompt: 'a lighthouse', steps: 8 }],
    // The video model renders 16:9 by default: the form must know to price it right.
    ['text to video at the model’s default aspect ratio, 1 s at 8 fps', 'video', { prompt: 'waves', durationSeconds: 1, fps: 8, steps: 6 }],
    ['text to video, 9:16', 'video', { prompt: 'waves', aspectRatio: '9:16', durationSeconds: 0.5, fps: 8, steps: 4 }],
  ];

  for (const [name, tab, patch] of cases) {
    it(name, async () => {
      const form = formFor(tab, patch);
      const model = models.find((m) => m.name === form.model)!;
      const request = requestFor(form, model);
      expect(schemaProblems(openapi, request.path, request.body)).toEqual([]);

      const input = costInputFor(form, model)!;
      const local = estimateCost(input, pricingOf(model));
      const estimate = await api.post('/api/estimate', estimateBody(input, model.name));
      expect(estimate.status).toBe(200);
      expect(estimate.body).toEqual({ ...local, breakdown: { ...local.breakdown } });

      const submitted = await api.post(request.path, request.body);
      expect(submitted.status, submitted.text).toBe(202);
      expect(submitted.body.cost.amount).toBe(local.amount);
      expect({ width: submitted.body.parameters.width, height: submitted.body.parameters.height }).toEqual({ width: input.width, height: input.height });
      if (form.seedLocked) expect(submitted.body.seed).toBe(form.seed);
    });
  }

  it('the schema check catches what the server would refuse', async () => {
    const form = formFor('t2i', { prompt: 'x', steps: 151, extra: { bogus: true } });
    const request = requestFor(form, models[0]);
    expect(schemaProblems(openapi, request.path, request.body)).toEqual(['steps: expected at most 150 but received 151', 'bogus: is not a field of this request']);
    const refused = await api.post(request.path, request.body);
    expect(refused.status).toBe(422);
    expect(['invalid_parameter', 'unknown_field']).toContain(refused.body.code);
  });
});
