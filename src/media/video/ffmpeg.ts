import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';

/** The static ffmpeg binary shipped by `@ffmpeg-installer/ffmpeg` (4.1, with libx264). */
export const ffmpegPath: string = ffmpegInstaller.path;
/** The static ffprobe binary shipped by `@ffprobe-installer/ffprobe`. */
export const ffprobePath: string = ffprobeInstaller.path;

export interface RunToolOptions {
  /** Bytes for the process's stdin: a stream, or chunks written with backpressure. */
  readonly stdin?: Readable | AsyncIterable<Buffer>;
  /** Aborting kills the process (SIGKILL) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface RunToolResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Enough of stderr to hold ffmpeg's last error lines without keeping a whole log. */
const STDERR_TAIL_BYTES = 16 * 1024;
const STDERR_LINES_IN_ERROR = 6;

const abortReason = (signal: AbortSignal): unknown => signal.reason ?? Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });

/** Resolves when `stream` can take more data, or can never take any (closed or failed). */
function writable(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    stream.on('drain', done).on('close', done).on('error', done);
  });
}

/** Writes every chunk to `stdin`, awaiting 'drain' whenever the pipe is full, then ends it. */
async function feed(source: Readable | AsyncIterable<Buffer>, stdin: Writable, stopped: () => boolean): Promise<void> {
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (stopped() || stdin.destroyed) return; // the process is gone; its exit code tells why
    if (!stdin.write(chunk)) await writable(stdin);
  }
  stdin.end();
}

/**
 * Runs a media tool without a shell and collects its output. Rejects with the last lines of
 * stderr when it exits non-zero, with the signal's reason when aborted, or with the error the
 * stdin source threw (after killing the process). It settles only once the process has exited,
 * so no child outlives a rejected call.
 */
export function runTool(binary: string, args: readonly string[], opts: RunToolOptions = {}): Promise<RunToolResult> {
  const { signal, stdin } = opts;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    let feedError: { error: unknown } | undefined;
    let exited = false;
    const kill = () => {
      if (!exited) child.kill('SIGKILL');
    };
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    signal?.addEventListener('abort', kill, { once: true });
    if (stdin !== undefined) {
      child.stdin!.on('error', () => {}); // EPIPE when the process dies early; the exit code reports it
      feed(stdin, child.stdin!, () => exited).catch((error: unknown) => {
        feedError = { error };
        kill();
      });
    }
    child.once('error', (error) => {
      exited = true;
      signal?.removeEventListener('abort', kill);
      reject(new Error(`Could not start ${binary}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, killedBy) => {
      exited = true;
      signal?.removeEventListener('abort', kill);
      if (feedError !== undefined) return reject(feedError.error);
      if (signal?.aborted) return reject(abortReason(signal));
      if (code !== 0) {
        const tail = stderr.trim().split('\n').slice(-STDERR_LINES_IN_ERROR).join('\n');
        return reject(new Error(`${binary.split('/').pop()} exited with ${code ?? killedBy}: ${tail || '(no output)'}`));
      }
      resolve({ stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/**
 * Runs ffmpeg (see {@link runTool}). Callers pass `-hide_banner -loglevel error` or similar so
 * stderr holds only what explains a failure.
 *
 * @example await runFfmpeg(['-y', '-i', 'in.mp4', 'out.webm'], { signal })
 */
export function runFfmpeg(args: readonly string[], opts: RunToolOptions = {}): Promise<RunToolResult> {
  return runTool(ffmpegPath, args, opts);
}

/** Runs ffprobe (see {@link runTool}). */
export function runFfprobe(args: readonly string[], opts: RunToolOptions = {}): Promise<RunToolResult> {
  return runTool(ffprobePath, args, opts);
}
