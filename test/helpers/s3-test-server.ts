/**
 * A real S3-protocol server on loopback for the S3 adapter's tests: s3rver, fronted by a small
 * proxy that (1) records every request, so tests can see which S3 operations an adapter used,
 * and (2) verifies SigV4 query signatures, which s3rver 3.7 does not do (it checks a presigned
 * URL's expiry and access key but accepts any V4 signature — see its authentication middleware:
 * "Signature version 4 calculation is unimplemented").
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { makeTempDir } from './temp-dir.js';

/** s3rver's built-in account. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3TestServer {
  /** `http://127.0.0.1:PORT` of the proxy; use it as the S3 endpoint (path-style). */
  readonly endpoint: string;
  /** `METHOD /path?query` of every request seen, in arrival order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startS3TestServer(buckets: string[] = []): Promise<S3TestServer> {
  const temp = await makeTempDir('atelier-s3rver-');
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: temp.dir, configureBuckets: buckets.map((name) => ({ name })) });
  const upstream = await s3rver.run();
  const requests: string[] = [];

  const proxy = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const refusal = verifyPresigned(req);
    if (refusal !== undefined) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${refusal}</Message></Error>`);
      return;
    }
    const forward = http.request({ host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    requests,
    async close() {
      // Keep-alive sockets of S3 clients would otherwise hold close() open.
      proxy.closeAllConnections();
      s3rver.httpServer?.closeAllConnections();
      await Promise.all([new Promise((r) => proxy.close(r)), s3rver.close()]);
      await temp.remove();
    },
  };
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Recomputes a presigned URL's SigV4 signature (AWS "Authenticating Requests: Using Query
 * Parameters"). Returns why it is refused, or undefined when it verifies or is not presigned.
 */
function verifyPresigned(req: http.IncomingMessage): string | undefined {
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const params = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => pair.split('=', 2).map((part) => decodeURIComponent(part.replace(/\+/g, ' '))) as [string, string?]);
  const get = (name: string) => params.find(([k]) => k === name)?.[1];
  if (get('X-Amz-Algorithm') === undefined) return undefined;

  const [accessKeyId, date, region, service] = (get('X-Amz-Credential') ?? '').split('/');
  if (accessKeyId !== S3RVER_CREDENTIALS.accessKeyId || !date || !region || !service) return 'bad credential scope';
  const signedHeaders = (get('X-Amz-SignedHeaders') ?? '').split(';');
  const canonicalQuery = params
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v ?? '')}`)
    .sort()
    .join('&');
  const canonicalPath = rawPath.split('/').map((segment) => rfc3986(decodeURIComponent(segment))).join('/');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(req.headers[h] ?? '').trim()}\n`).join('');
  const canonicalRequest = [req.method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', get('X-Amz-Date'), scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${S3RVER_CREDENTIALS.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return expected === get('X-Amz-Signature') ? undefined : 'signature does not match';
}
