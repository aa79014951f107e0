import { describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { webhookTarget } from '../../src/webhooks/webhook-target.js';

const resolvesTo = (...addresses: string[]) => async () => addresses.map((address) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }));

async function refusal(promise: Promise<unknown>): Promise<AtelierError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AtelierError);
  return error as AtelierError;
}

describe('webhookTarget', () => {
  it('records an https URL whose name resolves to public addresses, with the terminal events by default', async () => {
    expect(await webhookTarget({ webhook: 'https://hooks.example.com/a?b=c' }, { allowPrivate: false, lookup: resolvesTo('93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c') })).toEqual({
      url: 'https://hooks.example.com/a?b=c',
      events: 'succeeded,failed,canceled',
    });
    expect(await webhookTarget({ webhook: 'https://hooks.example.com/', webhook_events: ['canceled', 'running', 'canceled'] }, { allowPrivate: false, lookup: resolvesTo('93.184.215.14') })).toEqual({
      url: 'https://hooks.example.com/',
      events: 'running,canceled',
    });
    expect(await webhookTarget({}, { allowPrivate: false })).toBeUndefined();
  });

  it('refuses a name that resolves to a private address, even one of several (DNS is asked, not trusted)', async () => {
    for (const addresses of [['10.0.0.5'], ['93.184.215.14', '127.0.0.1'], ['fd00::1'], ['169.254.169.254']]) {
      const error = await refusal(webhookTarget({ webhook: 'https://hooks.example.com/' }, { allowPrivate: false, lookup: resolvesTo(...addresses) }));
      expect(error).toMatchObject({ code: 'url_refused', field: 'webhook' });
    }
  });

  it('refuses a name that does not resolve, naming the field', async () => {
    const error = await refusal(
      webhookTarget({ webhook: 'https://nowhere.example.com/' }, { allowPrivate: false, lookup: () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })) }),
    );
    expect(error).toMatchObject({ code: 'url_fetch_failed', field: 'webhook' });
  });

  it('with allowPrivate (WEBHOOK_ALLOW_PRIVATE) takes http, loopback and private targets', async () => {
    for (const webhook of ['http://127.0.0.1:9000/hook', 'http://localhost:9000/hook', 'https://10.1.2.3/hook', 'http://receiver/hook']) {
      expect(await webhookTarget({ webhook }, { allowPrivate: true, lookup: resolvesTo('172.17.0.2') })).toMatchObject({ url: webhook });
    }
    // Other schemes are still refused.
    expect(await refusal(webhookTarget({ webhook: 'file:///etc/passwd' }, { allowPrivate: true }))).toMatchObject({ code: 'url_refused', field: 'webhook' });
  });

  it('refuses webhook_events that are empty or come without a webhook', async () => {
    expect(await refusal(webhookTarget({ webhook: 'https://93.184.215.14/', webhook_events: [] }, { allowPrivate: false }))).toMatchObject({ code: 'invalid_parameter', field: 'webhook_events' });
    expect(await refusal(webhookTarget({ webhook_events: ['failed'] }, { allowPrivate: false }))).toMatchObject({ code: 'invalid_parameter', field: 'webhook_events' });
  });
});
