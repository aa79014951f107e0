import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { safeFetch, type ResolvedAddress, type SafeFetchOptions } from '../../src/net/safe-fetch.js';
import { BIG_SIZE, IMAGE_BYTES, startFixtureServer, type FixtureServer } from '../helpers/fixture-http-server.js';

let server: FixtureServer;
let other: FixtureServer;
let v6: FixtureServer | undefined;

beforeAll(async () => {
  [server, other] = await Promise.all([startFixtureServer(), startFixtureServer()]);
  // Some CI containers have no IPv6 loopback; the IPv6 cases then run against nothing.
  v6 = await startFixtureServer('::1').catch(() => undefined);
});
afterAll(async () => {
  await Promise.all([server?.close(), other?.close(), v6?.close()]);
});

const base = { maxBytes: 1024 * 1024, timeoutMs: 5000 } satisfies SafeFetchOptions;
/** The test-only exemption for exactly the main fixture server. */
const reachServer = () => ({ ...base, unsafeAllowDestinations: [server.destination] });

async function refusal(url: string, options: SafeFetchOptions = base): Promise<AtelierError> {
  const error = await safeFetch(url, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${url} to be refused`).toBeInstanceOf(AtelierError);
  return error as AtelierError;
}

function resolvingTo(...addresses: string[]) {
  return vi.fn(async (_host: string): Promise<ResolvedAddress[]> => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
}

describe('safeFetch refuses private destinations', () => {
  it('a server on 127.0.0.1, without ever connecting to it', async () => {
    const before = server.requests.length;
    const error = await refusal(`${server.origin}/image`);
    expect([error.code, error.status]).toEqual(['url_refused', 422]);
    expect(error.message).toContain('127.0.0.1');
    expect(server.requests.length).toBe(before);
  });

  it('loopback spelled as IPv6, IPv4-mapped IPv6, decimal and hex', async () => {
    const port = server.port;
    for (const url of [`http://[::ffff:127.0.0.1]:${port}/image`, `http://[::ffff:7f00:1]:${port}/image`, `http://2130706433:${port}/image`, `http://0x7f000001:${port}/image`, `http://127.1:${port}/image`]) {
      expect((await refusal(url)).code).toBe('url_refused');
    }
    expect(server.requests.filter((r) => r.url === '/image')).toHaveLength(0);
  });

  it('a server on [::1]', async (context) => {
    if (v6 === undefined) return context.skip();
    const before = v6.requests.length;
    expect((await refusal(`${v6.origin}/image`)).code).toBe('url_refused');
    expect(v6.requests.length).toBe(before);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://[::]/',
    'http://0.0.0.0/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.0.1/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[64:ff9b::a9fe:a9fe]/',
  ])('the address literal %s', async (url) => {
    expect((await refusal(url)).code).toBe('url_refused');
  });

  it('local host names before asking DNS', async () => {
    const lookup = resolvingTo('93.184.215.14');
    for (const url of ['http://metadata.google.internal/computeMetadata/v1/', 'http://localhost/', 'http://metadata/', 'http://nas.local/']) {
      expect((await refusal(url, { ...base, lookup })).code).toBe('url_refused');
    }
    expect(lookup).not.toHaveBeenCalled();
  });

  it('a public-looking name that resolves to a private address', async () => {
    const before = server.requests.length;
    const lookup = resolvingTo('127.0.0.1');
    const error = await refusal(`http://images.example.com:${server.port}/image`, { ...base, lookup });
    expect(error.code).toBe('url_refused');
    expect(error.message).toContain('resolves to 127.0.0.1');
    expect(lookup).toHaveBeenCalledWith('images.example.com');
    expect(server.requests.length).toBe(before);
  });

  it('a name with one private address among public ones', async () => {
    expect((await refusal('http://cdn.example.com/x.png', { ...base, lookup: resolvingTo('93.184.215.14', '10.0.0.7') })).code).toBe('url_refused');
    expect((await refusal('http://cdn.example.com/x.png', { ...base, lookup: resolvingTo('2606:4700::1', '::ffff:169.254.169.254') })).code).toBe('url_refused');
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/a.png', 'data:image/png;base64,iVBORw0KGgo=', 'gopher://example.com/', 'not a url', '//example.com/a.png'])(
    'the URL %j (scheme or form)',
    async (url) => {
      expect((await refusal(url)).code).toBe('url_refused');
    },
  );

  it('http when only https is allowed', async () => {
    const error = await refusal(`${server.origin}/image`, { ...reachServer(), allowedProtocols: ['https:'] });
    expect(error.code).toBe('url_refused');
    expect(error.message).toContain("'http:'");
  });
});

describe('safeFetch checks every redirect hop', () => {
  it('an allowed first hop redirecting to the metadata service is refused', async () => {
    const error = await refusal(`${server.origin}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`, reachServer());
    expect(error.code).toBe('url_refused');
    expect(error.message).toContain('169.254.169.254');
  });

  it('the exemption covers one exact ip:port: another port on loopback is refused', async () => {
    const before = other.requests.length;
    const error = await refusal(`${server.origin}/redirect?to=${encodeURIComponent(`${other.origin}/image`)}`, reachServer());
    expect(error.code).toBe('url_refused');
    expect(other.requests.length).toBe(before);
  });

  it('a redirect to a name resolving privately, or to file:, is refused', async () => {
    const lookup = resolvingTo('192.168.1.1');
    const toName = `${server.origin}/redirect?to=${encodeURIComponent('http://evil.example.com/')}`;
    expect((await refusal(toName, { ...reachServer(), lookup })).code).toBe('url_refused');
    expect(lookup).toHaveBeenCalledWith('evil.example.com');
    expect((await refusal(`${server.origin}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`, reachServer())).code).toBe('url_refused');
  });

  it('follows up to maxRedirects and refuses one more', async () => {
    const result = await safeFetch(`${server.origin}/chain/3`, reachServer());
    expect(result.bytes).toEqual(IMAGE_BYTES);
    expect(result.finalUrl).toBe(`${server.origin}/image`);
    const error = await refusal(`${server.origin}/chain/4`, reachServer());
    expect([error.code, error.message]).toEqual(['url_refused', 'The URL redirected more than 3 times']);
    expect((await refusal(`${server.origin}/chain/1`, { ...reachServer(), maxRedirects: 0 })).code).toBe('url_refused');
  });
});

describe('safeFetch fetches', () => {
  it('returns the bytes, content type and final URL', async () => {
    const result = await safeFetch(`${server.origin}/image`, reachServer());
    expect(result).toEqual({ bytes: IMAGE_BYTES, contentType: 'image/png', finalUrl: `${server.origin}/image` });
  });

  it('connects to the address it checked, without resolving the name again', async () => {
    // If the socket did its own DNS lookup, this made-up name would not resolve at all.
    const lookup = resolvingTo('127.0.0.1');
    const result = await safeFetch(`http://rebind.example.com:${server.port}/image`, { ...reachServer(), lookup });
    expect(result.bytes).toEqual(IMAGE_BYTES);
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(server.requests.at(-1)).toEqual({ url: '/image', host: `rebind.example.com:${server.port}` });
  });

  it('reaches an exempted [::1]:port (IPv6 form of the exemption)', async (context) => {
    if (v6 === undefined) return context.skip();
    const result = await safeFetch(`${v6.origin}/image`, { ...base, unsafeAllowDestinations: [v6.destination] });
    expect(result.bytes).toEqual(IMAGE_BYTES);
  });

  it('accepts a body of exactly maxBytes and refuses one byte more', async () => {
    expect((await safeFetch(`${server.origin}/sized/1000`, { ...reachServer(), maxBytes: 1000 })).bytes.length).toBe(1000);
    const error = await refusal(`${server.origin}/sized/1001`, { ...reachServer(), maxBytes: 1000 });
    expect([error.code, error.status]).toEqual(['url_too_large', 413]);
  });

  it('stops downloading once the body exceeds maxBytes', async () => {
    const error = await refusal(`${server.origin}/big`, { ...reachServer(), maxBytes: 256 * 1024 });
    expect(error.code).toBe('url_too_large');
    // The server notices the closed socket and stops well short of the whole body.
    await new Promise((r) => setTimeout(r, 100));
    expect(server.bigWritten()).toBeLessThan(BIG_SIZE / 2);
  });

  it('refuses a declared Content-Length over maxBytes without reading', async () => {
    expect((await refusal(`${server.origin}/declared-big`, reachServer())).code).toBe('url_too_large');
  });

  it('gives up after timeoutMs on a server that never finishes', async () => {
    const started = Date.now();
    const error = await refusal(`${server.origin}/slow`, { ...reachServer(), timeoutMs: 300 });
    expect([error.code, error.status]).toEqual(['url_timeout', 504]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives up after timeoutMs on a name that never resolves', async () => {
    const error = await refusal('http://hangs.example.com/', { ...base, timeoutMs: 200, lookup: () => new Promise(() => {}) });
    expect(error.code).toBe('url_timeout');
  });

  it('reports non-2xx answers, refused connections and unresolvable names as url_fetch_failed, naming the field', async () => {
    const notFound = await refusal(`${server.origin}/status/404`, { ...reachServer(), field: 'image_url' });
    expect([notFound.code, notFound.field, notFound.message]).toEqual(['url_fetch_failed', 'image_url', 'The URL answered with HTTP 404']);
    const closed = await startFixtureServer();
    await closed.close();
    expect((await refusal(`${closed.origin}/image`, { ...base, unsafeAllowDestinations: [closed.destination] })).code).toBe('url_fetch_failed');
    const nxdomain = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect((await refusal('http://nothing.example.com/', { ...base, lookup: nxdomain })).code).toBe('url_fetch_failed');
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = safeFetch(`${server.origin}/slow`, { ...reachServer(), signal: controller.signal });
    setTimeout(() => controller.abort(new Error('job canceled')), 50);
    await expect(pending).rejects.toThrow('job canceled');
  });
});
