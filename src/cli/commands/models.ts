import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../main/load-config.js';
import { formatBytes, formatDuration, parseByteSize } from '../../models-pull/byte-size.js';
import { checkFileName, fileNameFromUrl } from '../../models-pull/file-name.js';
import { PullError, PullInterrupted } from '../../models-pull/pull-errors.js';
import { PULL_DEFAULTS, pullModel } from '../../models-pull/pull-model.js';
import { createTransferProgress } from '../../models-pull/transfer-progress.js';
import { CliError, UsageError } from '../cli-error.js';

export const MODELS_PULL_USAGE = `Usage: atelier models pull URL [options]

Downloads a model file into a backend's model folder. An interrupted download (Ctrl-C, a
broken connection) resumes from DIR/FILE.partial; the final name appears only when the file
is complete (and verified, with --sha256).

Options:
  --dest DIR              where the file goes (default: modelsDir in the configuration)
  --name FILE             its name (default: the last part of the URL's path)
  --sha256 HEX            verify the file; on a mismatch it is deleted and the exit code is 1
  --min-free BYTES        free space to keep on the disk, e.g. 0, 500M, 10G (default ${formatBytes(PULL_DEFAULTS.minFreeBytes)})
  --retries N             retries of a failing transfer, with backoff (default ${PULL_DEFAULTS.retries})
  --connect-timeout SEC   wait for the server's answer (default ${PULL_DEFAULTS.connectTimeoutMs / 1000})
  --stall-timeout SEC     wait for more data before retrying from the partial file (default ${PULL_DEFAULTS.stallTimeoutMs / 1000})
  --allow-private         allow private and loopback addresses (a mirror on your own network)
  -h, --help              this help

Exit codes: 0 saved, 1 failed, 64 wrong usage, 130 interrupted (run it again to resume).
`;

const USAGE = `Usage: atelier models pull URL [options]    (atelier models pull --help for the options)`;

/**
 * `atelier models pull URL [--dest DIR] [--sha256 HEX] [--name FILE] …`: downloads a model file
 * with {@link pullModel}, a progress bar on stderr and the saved path on stdout. Ctrl-C keeps
 * the partial file and exits 130.
 *
 * @example atelier models pull https://huggingface.co/…/sd_xl_base_1.0.safetensors --dest ~/ComfyUI/models/checkpoints
 */
export async function modelsCommand(args: string[]): Promise<void> {
  const [subcommand, ...rest] = args;
  if (subcommand === 'pull') return pullCommand(rest);
  if (subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
    process.stdout.write(MODELS_PULL_USAGE);
    return;
  }
  throw new UsageError(subcommand === undefined ? USAGE : `Unknown models command '${subcommand}'.\n${USAGE}`);
}

async function pullCommand(args: string[]): Promise<void> {
  const options = parseOptions(args);
  if (options === 'help') {
    process.stdout.write(MODELS_PULL_USAGE);
    return;
  }
  const dir = options.dest ?? modelsDirFromConfig();
  const progress = createTransferProgress(process.stderr, options.name);
  const interrupt = new AbortController();
  const signals = { SIGINT: 130, SIGTERM: 143 } as const;
  let exitCode = 0;
  const onSignal = (signal: keyof typeof signals) => () => {
    exitCode = signals[signal];
    interrupt.abort();
  };
  const handlers = Object.fromEntries(Object.keys(signals).map((signal) => [signal, onSignal(signal as keyof typeof signals)]));
  for (const [signal, handler] of Object.entries(handlers)) process.once(signal, handler);

  const started = Date.now();
  try {
    const result = await pullModel({
      ...options,
      dir,
      signal: interrupt.signal,
      onProgress: (received, total) => progress.update(received, total),
      onNote: (message) => progress.note(message),
    });
    progress.done();
    const resumed = result.resumedFrom > 0 ? `, resumed at ${formatBytes(result.resumedFrom)}` : '';
    process.stderr.write(`Saved ${formatBytes(result.bytes)} in ${formatDuration(Date.now() - started)}${resumed}${result.verified ? ', SHA-256 verified' : ''}\n`);
    process.stdout.write(`${result.path}\n`);
  } catch (error) {
    progress.done();
    if (error instanceof PullInterrupted) {
      const kept = error.bytes > 0 ? `${formatBytes(error.bytes)} kept in ${error.partialPath}; run the same command again to resume` : 'nothing was downloaded yet';
      process.stderr.write(`Interrupted: ${kept}.\n`);
      process.exitCode = exitCode || 130;
      return;
    }
    if (error instanceof PullError) throw new CliError(error.message);
    throw error;
  } finally {
    for (const [signal, handler] of Object.entries(handlers)) process.removeListener(signal, handler);
  }
}

interface PullOptions {
  readonly url: string;
  readonly dest: string | undefined;
  readonly name: string;
  readonly sha256?: string;
  readonly minFreeBytes: number;
  readonly retries: number;
  readonly connectTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly allowPrivate: boolean;
}

function parseOptions(args: string[]): PullOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        dest: { type: 'string' },
        name: { type: 'string' },
        sha256: { type: 'string' },
        'min-free': { type: 'string' },
        retries: { type: 'string' },
        'connect-timeout': { type: 'string' },
        'stall-timeout': { type: 'string' },
        'allow-private': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const usage = (message: string) => new UsageError(`${message}\n${USAGE}`);
  if (positionals.length !== 1) throw usage(positionals.length === 0 ? 'Expected the URL of the file to download' : `Expected one URL but received ${positionals.length} arguments`);
  const url = positionals[0]!;
  if (!/^https?:\/\/[^/]/i.test(url)) throw usage(`Expected an http:// or https:// URL but received '${url}'`);

  const name = values.name ?? fileNameFromUrl(url);
  if (name === undefined) throw usage(`Cannot tell a file name from ${url}; give one with --name FILE`);
  const badName = checkFileName(name);
  if (badName !== undefined) throw usage(`Expected a plain file name for --name but received '${name}': ${badName}`);

  if (values.sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(values.sha256)) throw usage(`Expected 64 hexadecimal digits for --sha256 but received '${values.sha256}'`);
  const minFreeBytes = values['min-free'] === undefined ? PULL_DEFAULTS.minFreeBytes : parseByteSize(values['min-free']);
  if (minFreeBytes === undefined) throw usage(`Expected a size such as 0, 500M or 10G for --min-free but received '${values['min-free']}'`);

  return {
    url,
    dest: values.dest === undefined ? undefined : resolve(values.dest),
    name,
    ...(values.sha256 === undefined ? {} : { sha256: values.sha256.toLowerCase() }),
    minFreeBytes,
    retries: number(values.retries, 'retries', PULL_DEFAULTS.retries, { integer: true, min: 0, max: 100 }),
    connectTimeoutMs: number(values['connect-timeout'], 'connect-timeout', PULL_DEFAULTS.connectTimeoutMs / 1000, { min: 0.001, max: 3600 }) * 1000,
    stallTimeoutMs: number(values['stall-timeout'], 'stall-timeout', PULL_DEFAULTS.stallTimeoutMs / 1000, { min: 0.001, max: 86_400 }) * 1000,
    allowPrivate: values['allow-private'] === true,
  };
}

function number(text: string | undefined, option: string, fallback: number, range: { integer?: boolean; min: number; max: number }): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const kind = range.integer ? 'integer' : 'number';
  if (text.trim() === '' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value)) || value < range.min || value > range.max) {
    throw new UsageError(`Expected ${kind} ${range.min}–${range.max} for --${option} but received '${text}'\n${USAGE}`);
  }
  return value;
}

/** The configured model folder, relative to the working directory like `dataDir`. */
function modelsDirFromConfig(): string {
  const { modelsDir } = loadConfig(process.env);
  if (modelsDir === undefined) throw new UsageError(`Expected --dest DIR, or modelsDir in the configuration (atelier.config.json), to know where the file goes\n${USAGE}`);
  return resolve(modelsDir);
}
