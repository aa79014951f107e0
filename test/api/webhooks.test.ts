import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { metricsText, metricValue } from '../helpers/server-extras.js';
import { startInjectServer, startTestServer, type InjectServer, type TestServer } from '../helpers/test-server.js';
import { startWebhookReceiver, verifyStandardWebhook, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SMALL = { prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 2, seed: 7 };

/**
 * The run view with what is minted per response left out — its signed links' expiry and
 * signature — and the assets' scores, which are computed after the run succeeds and may not
 * exist yet when the delivery is made at once.
 */
function unsigned(view: unknown): unknown {
  return JSON.parse(JSON.stringify(view), (key, value: unknown) => {
    if (key === 'urlExpiresAt' || key === 'evaluations') return undefined;
    if (typeof value === 'string' && /^https?:\/\//.test(value)) {
      const url = new URL(value);
      url.searchParams.delete('expires');
      url.searchParams.delete('signature');
      return url.toString();
    }
    return value;
  });
}

const parsed = (request: ReceivedWebhook) => JSON.parse(request.body) as { runId: string; status: string; assets: unknown[] };

describe('webhooks over HTTP (WEBHOOK_ALLOW_PRIVATE=true, a local receiver)', () => {
  let t: TestServer;
  let receiver: WebhookReceiver;
  let user: { id: string; token: string };
  let api: ApiClient;

  beforeAll(async () => {
    t = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    receiver = await startWebhookReceiver();
    user = await t.addUser('hooked');
    api = apiClient(t, user.token);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('delivers each subscribed status change, signed per Standard Webhooks, with the body GET /api/status returns', async () => {
    const before = receiver.received.length;
    const run = await api.submit({ ...SMALL, webhook: `${receiver.url}?run=1`, webhook_events: ['running', 'succeeded'] });
    const [running, succeeded] = (await receiver.waitFor(before + 2)).slice(before);
    const secret = (await api.get('/api/webhooks/secret')).body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBe(32);

    for (const request of [running!, succeeded!]) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/hook?run=1');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      // Checked by the test's own HMAC, not the server's signer; a changed body no longer verifies.
      expect(verifyStandardWebhook(secret, request)).toBe(true);
      expect(verifyStandardWebhook(secret, { ...request, body: request.body.replace('"runId"', '"runID"') })).toBe(false);
      expect(parsed(request).runId).toBe(run.runId);
    }
    expect(running!.headers['webhook-id']).not.toBe(succeeded!.headers['webhook-id']);
    expect(running!.headers['atelier-webhook-event']).toBe('running');
    expect(succeeded!.headers['atelier-webhook-event']).toBe('succeeded');
    // The succeeded delivery is the finished run exactly as its status shows it.
    const status = await api.status(run.runId);
    expect(parsed(succeeded!).status).toBe('succeeded');
    expect(parsed(succeeded!).assets).toHaveLength(1);
    expect(unsigned(JSON.parse(succeeded!.body))).toEqual(unsigned(status.body));

    const listing = await api.get(`/api/runs/${run.runId}/webhooks`);
    expect(listing.status).toBe(200);
    expect(listing.body.runId).toBe(run.runId);
    expect(listing.body.deliveries.map((d: any) => [d.event, d.state, d.attempts, d.lastStatus, d.webhookId])).toEqual([
      ['running', 'delivered', 1, 200, running!.headers['webhook-id']],
      ['succeeded', 'delivered', 1, 200, succeeded!.headers['webhook-id']],
    ]);
    expect(listing.body.deliveries[1]).toMatchObject({ url: `${receiver.url}?run=1`, nextAttemptAt: null, lastError: null, history: [{ attempt: 1, status: 200, error: null }] });
    expect(metricValue(await metricsText(t), 'atelier_webhook_deliveries_total{outcome="delivered"}')).toBeGreaterThanOrEqual(2);
  });

  it('sends only the terminal events by default, a cancel included', async () => {
    const before = receiver.received.length;
    // Queued behind nothing but canceled before it can finish: a long render.
    const run = await api.submit({ prompt: 'a long render', width: 2048, height: 2048, steps: 150, seed: 1, webhook: receiver.url });
    await api.waitFor(run.runId, (r) => r.status === 'running');
    expect((await api.post(`/api/runs/${run.runId}/cancel`)).status).toBe(200);
    const [canceled] = (await receiver.waitFor(before + 1)).slice(before);
    expect(parsed(canceled!)).toMatchObject({ runId: run.runId, status: 'canceled' });
    expect(canceled!.headers['atelier-webhook-event']).toBe('canceled');
    // No running delivery was made for it, and nothing else follows.
    const listing = await api.get(`/api/runs/${run.runId}/webhooks`);
    expect(listing.body.deliveries.map((d: any) => d.event)).toEqual(['canceled']);
  });

  it('rotating the secret: deliveries from then on verify with the new secret only', async () => {
    const old = (await api.get('/api/webhooks/secret')).body.secret as string;
    expect((await api.get('/api/webhooks/secret')).body.secret).toBe(old); // stable until rotated
    const rotated = await api.post('/api/webhooks/secret/rotate');
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(old);
    expect((await api.get('/api/webhooks/secret')).body.secret).toBe(fresh);

    const before = receiver.received.length;
    await api.submit({ ...SMALL, seed: 8, webhook: receiver.url });
    const [delivery] = (await receiver.waitFor(before + 1)).slice(before);
    expect(verifyStandardWebhook(fresh, delivery!)).toBe(true);
    expect(verifyStandardWebhook(old, delivery!)).toBe(false);
    // Another user's secret is theirs: it does not verify this user's deliveries.
    const other = await t.addUser('someone-else');
    const theirs = (await apiClient(t, other.token).get('/api/webhooks/secret')).body.secret as string;
    expect(verifyStandardWebhook(theirs, delivery!)).toBe(false);
  });

  it("lists a run's deliveries to its owner and admins only; anyone else gets the status route's 404", async () => {
    const run = await api.submit({ ...SMALL, seed: 9, webhook: receiver.url });
    await api.waitFor(run.runId);
    const other = await t.addUser('nosy');
    const denied = await apiClient(t, other.token).get(`/api/runs/${run.runId}/webhooks`);
    expect(denied.status).toBe(404);
    expect(denied.body).toMatchObject({ code: 'not_found', field: 'runId' });
    expect((await apiClient(t, other.token).status(run.runId)).status).toBe(404);
    expect((await apiClient(t, t.adminToken).get(`/api/runs/${run.runId}/webhooks`)).status).toBe(200);
    expect((await api.get('/api/runs/no-such-run/webhooks')).status).toBe(404);
    expect((await apiClient(t, null).get(`/api/runs/${run.runId}/webhooks`)).status).toBe(401);
    // A run without a webhook lists none.
    const plain = await api.submit({ ...SMALL, seed: 10 });
    await api.waitFor(plain.runId);
    expect((await api.get(`/api/runs/${plain.runId}/webhooks`)).body.deliveries).toEqual([]);
  });
});

describe('webhook fields at submission (WEBHOOK_ALLOW_PRIVATE unset)', () => {
  let t: InjectServer;
  let api: ApiClient;

  beforeAll(async () => {
    // Nothing runs: only what submission accepts or refuses matters here.
    t = await startInjectServer({ RUNNER_CONCURRENCY: '0' });
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['http://127.0.0.1:8080/hook', 'url_refused'], // http, and loopback
    ['https://127.0.0.1/hook', 'url_refused'],
    ['https://10.1.2.3/hook', 'url_refused'],
    ['https://169.254.169.254/latest/meta-data', 'url_refused'],
    ['https://[::1]/hook', 'url_refused'],
    ['https://[::ffff:192.168.0.1]/hook', 'url_refused'],
    ['https://localhost/hook', 'url_refused'],
    ['https://metadata.google.internal/hook', 'url_refused'],
    ['http://93.184.215.14/hook', 'url_refused'], // public, but not https
    ['ftp://93.184.215.14/hook', 'url_refused'],
    ['not a url', 'url_refused'],
  ])('refuses %s with a 422 naming webhook', async (webhook, code) => {
    for (const path of ['/api/generate/text-to-image', '/v1/images/generations']) {
      const res = await api.post(path, { prompt: SMALL.prompt, steps: 2, webhook });
      expect(res.status, `${path} ${res.text}`).toBe(422);
      if (path.startsWith('/v1')) expect(res.body.error).toMatchObject({ code, param: 'webhook' });
      else expect(res.body).toMatchObject({ code, field: 'webhook' });
    }
  });

  it('accepts a public https URL on every generation route and records the default events', async () => {
    const res = await api.post('/api/generate/text-to-image', { ...SMALL, webhook: 'https://93.184.215.14/hook' });
    expect(res.status, res.text).toBe(202);
    const video = await api.post('/api/generate/text-to-video', { prompt: 'waves', num_frames: 4, webhook: 'https://93.184.215.14/hook', webhook_events: ['running', 'failed'] });
    expect(video.status, video.text).toBe(202);
    // Still queued (no runner): nothing to deliver yet.
    expect((await api.get(`/api/runs/${res.body.runId}/webhooks`)).body.deliveries).toEqual([]);
  });

  it.each([
    [{ webhook: 'https://93.184.215.14/hook', webhook_events: ['queued'] }, 'webhook_events[0]'],
    [{ webhook: 'https://93.184.215.14/hook', webhook_events: 'succeeded' }, 'webhook_events'],
    [{ webhook: 'https://93.184.215.14/hook', webhook_events: [] }, 'webhook_events'],
    [{ webhook_events: ['succeeded'] }, 'webhook_events'],
    [{ webhook: 42 }, 'webhook'],
    [{ webhook: '' }, 'webhook'],
  ])('refuses %j with a 422 naming %s', async (fields, field) => {
    const res = await api.post('/api/generate/text-to-image', { ...SMALL, ...fields });
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ code: 'invalid_parameter', field });
  });

  it('accepts an event named twice as once', async () => {
    const res = await api.post('/api/generate/text-to-image', { ...SMALL, webhook: 'https://93.184.215.14/hook', webhook_events: ['failed', 'failed'] });
    expect(res.status, res.text).toBe(202);
  });
});
