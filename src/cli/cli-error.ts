/** A wrong invocation: printed with the usage, exit code 64 (EX_USAGE). */
export class UsageError extends Error {}

/** An expected failure (server unreachable, refused request): printed as one line, exit 1. */
export class CliError extends Error {}
