import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './cli-error.js';
import { GENERATE_USAGE } from './usage.js';

export type CliMode = 't2i' | 'i2i' | 't2v' | 'i2v';

const ENDPOINTS: Record<CliMode, string> = {
  t2i: '/api/generate/text-to-image',
  i2i: '/api/generate/image-to-image',
  t2v: '/api/generate/text-to-video',
  i2v: '/api/generate/image-to-video',
};

/** An image file the request names, uploaded before submitting; its upload goes to `field`. */
export interface InputFile {
  readonly option: '--ref' | '--start' | '--end';
  readonly field: 'reference_image' | 'start_image' | 'end_image';
  readonly path: string;
}

/** What `atelier generate …` asks for: the request to send and where the results go. */
export interface GenerateOptions {
  readonly mode: CliMode;
  readonly endpoint: string;
  /** The JSON body (snake_case), input images not yet included. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly files: readonly InputFile[];
  /** Absolute. */
  readonly out: string;
  readonly server: string;
  readonly token: string;
}

const SHORT_USAGE = 'Usage: atelier generate "PROMPT" [options]    (atelier generate --help for the options)';
const usage = (message: string) => new UsageError(`${message}\n${SHORT_USAGE}`);

const OPTIONS = {
  mode: { type: 'string' },
  model: { type: 'string' },
  negative: { type: 'string' },
  size: { type: 'string' },
  'aspect-ratio': { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  sampler: { type: 'string' },
  seed: { type: 'string' },
  'num-images': { type: 'string' },
  'hires-fix': { type: 'boolean' },
  ref: { type: 'string' },
  denoise: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  frames: { type: 'string' },
  fps: { type: 'string' },
  out: { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
} as const;

/** Options that only make sense in some modes: using one elsewhere is a usage error, not a silent no-op. */
const ONLY_IN: Partial<Record<keyof typeof OPTIONS, readonly CliMode[]>> = {
  'num-images': ['t2i', 'i2i'],
  'hires-fix': ['t2i'],
  ref: ['i2i'],
  denoise: ['i2i'],
  start: ['i2v'],
  end: ['i2v'],
  frames: ['t2v', 'i2v'],
  fps: ['t2v', 'i2v'],
};

/**
 * Parses `atelier generate` arguments (node:util parseArgs, strict: an unknown option is a
 * usage error) into the request to send. Options may come in any order; values are checked
 * for form here and for range by the server, whose message is shown as it is.
 *
 * @example parseGenerateOptions(['a fox', '--steps', '20'], process.env).body // { prompt: 'a fox', steps: 20 }
 * @throws UsageError (exit 64) for anything malformed.
 */
export function parseGenerateOptions(args: string[], env: NodeJS.ProcessEnv): GenerateOptions {
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const mode = modeOf(values);
  for (const [option, modes] of Object.entries(ONLY_IN) as [keyof typeof OPTIONS, readonly CliMode[]][]) {
    if (values[option] !== undefined && !modes.includes(mode)) throw usage(`--${option} applies to --mode ${modes.join(' or ')}, not ${mode}`);
  }
  if (mode === 'i2i' && values.ref === undefined) throw usage('--mode i2i needs the reference image: --ref FILE');
  if (mode === 'i2v' && values.start === undefined) throw usage('--mode i2v needs the first frame: --start FILE');

  const prompt = positionals.join(' ').trim();
  // Image-to-image and image-to-video may run without a prompt; the others need one.
  if (!prompt && (mode === 't2i' || mode === 't2v')) throw new UsageError(GENERATE_USAGE.trimEnd());
  const token = values.token ?? (env.ATELIER_TOKEN || undefined);
  if (!token) throw new UsageError('An API token is required: pass --token or set ATELIER_TOKEN (atelier serve prints one)');
  const server = values.server ?? (env.ATELIER_SERVER || 'http://127.0.0.1:8787');
  try {
    new URL(server);
  } catch {
    throw usage(`Expected a URL for --server but received '${server}'`);
  }

  const body: Record<string, unknown> = { prompt };
  const set = (field: string, value: unknown) => {
    if (value !== undefined) body[field] = value;
  };
  set('negative_prompt', values.negative);
  set('model', values.model);
  set('aspect_ratio', values['aspect-ratio']);
  if (values.size !== undefined) {
    const match = /^(\d+)x(\d+)$/.exec(values.size);
    if (!match) throw usage(`Expected WIDTHxHEIGHT for --size but received '${values.size}'`);
    body.width = Number(match[1]);
    body.height = Number(match[2]);
  }
  set('steps', integer('--steps', values.steps));
  set('cfg_scale', number('--cfg', values.cfg));
  set('sampler', values.sampler);
  set('seed', integer('--seed', values.seed));
  set('num_images', integer('--num-images', values['num-images']));
  if (values['hires-fix']) body.hires_fix = true;
  set('denoise_strength', number('--denoise', values.denoise));
  set('num_frames', integer('--frames', values.frames));
  set('fps', integer('--fps', values.fps));

  const files: InputFile[] = [];
  if (values.ref !== undefined) files.push({ option: '--ref', field: 'reference_image', path: resolve(values.ref) });
  if (values.start !== undefined) files.push({ option: '--start', field: 'start_image', path: resolve(values.start) });
  if (values.end !== undefined) files.push({ option: '--end', field: 'end_image', path: resolve(values.end) });

  return { mode, endpoint: ENDPOINTS[mode], body, files, out: resolve(values.out ?? '.'), server: server.replace(/\/$/, ''), token };
}

/** --mode, or what the input files imply: --ref is image-to-image, --start image-to-video. */
function modeOf(values: { mode?: string | undefined; ref?: string | undefined; start?: string | undefined }): CliMode {
  if (values.mode === undefined) return values.ref !== undefined ? 'i2i' : values.start !== undefined ? 'i2v' : 't2i';
  if (!(values.mode in ENDPOINTS)) throw usage(`Expected t2i, i2i, t2v or i2v for --mode but received '${values.mode}'`);
  return values.mode as CliMode;
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw usage(`Expected an integer for ${flag} but received '${value}'`);
  return n;
}

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw usage(`Expected a number for ${flag} but received '${value}'`);
  return n;
}
