/** A wrong invocation: printed with the usage, exit code 64 (EX_USAGE). */
export class UsageError extends Error {}

/**
 * An expected failure (server unreachable, refused request): printed as one line, exit 1 —
 * or `exitCode`, e.g. 73 (EX_CANTCREAT) for an output directory that cannot be written.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
