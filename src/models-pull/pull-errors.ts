/**
 * Signal errors of a model download: the pull loop branches on the class, never on the text.
 * Messages are written for the person at the terminal.
 */

/** The download cannot succeed as asked (HTTP 404, refused address, no space, bad checksum): stop. */
export class PullError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'PullError';
  }
}

/** A transient failure (connection broken, 5xx, 429, a timeout): retry from the partial file. */
export class RetryablePullError extends Error {
  /** The server's Retry-After, when it gave one. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RetryablePullError';
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** The caller's signal aborted (Ctrl-C): the partial file and its metadata stay for the next run. */
export class PullInterrupted extends Error {
  constructor(
    readonly partialPath: string,
    readonly bytes: number,
  ) {
    super(`Interrupted; ${bytes} bytes are kept in ${partialPath}`);
    this.name = 'PullInterrupted';
  }
}
