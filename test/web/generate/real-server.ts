/**
 * A real in-process Atelier server (test/helpers/test-server.ts) for the web tests. The
 * import is dynamic through a computed specifier on purpose: the web tests typecheck with
 * the browser's settings (DOM lib, test/web/tsconfig.json), under which the server's own
 * sources do not compile (Node's Buffer is no DOM BlobPart). The helper keeps its own types.
 */
export interface RealServer {
  readonly url: string;
  readonly adminToken: string;
  close(): Promise<void>;
}

export async function startRealServer(env: Record<string, string> = {}): Promise<RealServer> {
  const specifier: string = '../../helpers/test-server.ts';
  const helper = (await import(/* @vite-ignore */ specifier)) as { startTestServer(env?: Record<string, string>): Promise<RealServer> };
  return helper.startTestServer(env);
}

/** JSON over HTTP with the admin token. */
export function client(server: RealServer) {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? (JSON.parse(text) as any) : undefined };
  };
  return { get: (path: string) => call('GET', path), post: (path: string, body?: unknown) => call('POST', path, body) };
}
