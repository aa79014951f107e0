import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/webhooks/sign-webhook.js';
import { newWebhookSecret, webhookSecretKey } from '../../src/webhooks/webhook-secret.js';
import { verifyStandardWebhook } from '../helpers/webhook-receiver.js';

describe('signWebhook (Standard Webhooks)', () => {
  it("matches the specification's example: secret, id, timestamp and payload give its signature", () => {
    // https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
    const headers = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('signs with the decoded secret over id.timestamp.body, as an independent HMAC computes it', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ runId: 'r1', status: 'succeeded', prompt: 'ünïcödé ✓' });
    const headers: Record<string, string> = { ...signWebhook(secret, 'msg_1', 1_767_225_600, body) };
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    expect(headers['webhook-signature']).toBe(`v1,${createHmac('sha256', key).update(`msg_1.1767225600.${body}`).digest('base64')}`);
    expect(verifyStandardWebhook(secret, { headers, body })).toBe(true);
    expect(verifyStandardWebhook(secret, { headers: { ...headers, 'webhook-timestamp': '1767225601' }, body })).toBe(false);
    expect(verifyStandardWebhook(newWebhookSecret(), { headers, body })).toBe(false);
  });

  it('makes secrets of 32 random bytes behind whsec_', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretKey(a)).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
