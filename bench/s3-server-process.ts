import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The parent side of bench/s3-server-child.ts: starts it and waits for its endpoint. */
export interface S3ServerProcess {
  readonly endpoint: string;
  readonly pid: number;
  close(): Promise<void>;
}

export async function startS3ServerProcess(buckets: string[]): Promise<S3ServerProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./s3-server-child.js', import.meta.url)), ...buckets], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { endpoint: string }).endpoint);
    });
    child.once('exit', (code) => reject(new Error(`S3 server child exited (${code}) before listening`)));
  });
  return {
    endpoint,
    pid: child.pid!,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
