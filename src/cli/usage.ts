// The usage text of every command, in a module that imports nothing: `atelier --help` and
// `atelier COMMAND --help` print it without loading the command (and its database, sharp or
// Fastify), and each command reuses it in its usage errors.

export const SERVE_USAGE = `Usage: atelier serve

Starts the server on the configured adapters (embedded by default: SQLite, local disk and an
in-process queue in DATA_DIR) and prints where it runs, the playground URL and an API token.
Configuration: environment variables and atelier.config.json (or the file ATELIER_CONFIG
names); see docs/configuration.md. Stops cleanly on SIGINT/SIGTERM.
`;

export const GENERATE_USAGE = `Usage: atelier generate "PROMPT" [options]

Generates through a running server, shows the progress and writes the files to --out (one
path per line on stdout). Ctrl-C cancels the run on the server and exits 130.

Options:
  --mode t2i|i2i|t2v|i2v  what to make (default t2i; --ref implies i2i, --start implies i2v)
  --model NAME            a model from GET /api/models (default: the server's default for the mode)
  --negative TEXT         negative prompt
  --size WxH              output size, multiples of 8 (or --aspect-ratio)
  --aspect-ratio R        1:1, 16:9, 9:16, 4:3, 3:4, 3:2 or 2:3
  --steps N               sampling steps
  --cfg N                 CFG (guidance) scale
  --sampler NAME          e.g. Euler, "Euler a", "DPM++ 2M Karras"
  --seed N                fixed seed (default random); image i of a batch uses seed + i
  --num-images N          images in the batch (t2i, i2i; 1-8)
  --hires-fix             a second, sharper pass at the output size (t2i, models that can)
  --ref FILE              i2i: the reference image (PNG, JPEG or WebP)
  --denoise N             i2i: 0 keeps the reference, 1 ignores it (default 0.75)
  --start FILE            i2v: the first frame
  --end FILE              i2v: the frame the video moves toward
  --frames N              t2v, i2v: number of frames
  --fps N                 t2v, i2v: frames per second
  --out DIR               where the files go (default .); checked before anything renders
  --server URL            default ATELIER_SERVER or http://127.0.0.1:8787
  --token TOKEN           an API token (default ATELIER_TOKEN)
  -h, --help              this help

Exit codes: 0 written, 1 failed (refused, unreachable, run failed), 64 wrong usage,
73 --out cannot be written, 130 interrupted (the run was canceled).
`;

export const USERS_USAGE = `Usage: atelier users list | add NAME [--admin] | remove NAME | token NAME [--rotate]

Manages the users of the configured database (the one \`atelier serve\` uses: DATA_DIR,
DATABASE_URL, ATELIER_CONFIG; named on stderr). Safe while the server runs.

  list                 one line per user: name, role, id, token count, creation time
  add NAME [--admin]   create a user (an admin with --admin); prints its API token, shown once
  remove NAME          remove a user: every token it has stops working at once; its runs stay
                       (the last admin cannot be removed)
  token NAME [--rotate]
                       print a new API token for the user, shown once; --rotate also revokes
                       every other token it has
  -h, --help           this help
`;

export const WORKERS_USAGE = `Usage: atelier workers add NAME | list | remove NAME

Manages remote workers in the configured database (the one \`atelier serve\` uses: DATA_DIR,
DATABASE_URL, ATELIER_CONFIG): \`add\` prints the worker token (atw_…, shown once) for
\`atelier worker --token\`, \`list\` shows when each was last seen, \`remove\` revokes one.
Safe while the server runs.
`;

export const WORKER_USAGE = `Usage: atelier worker --server URL --token atw_… --backend builtin|comfyui|a1111 [options]

Runs a remote worker: pulls jobs of the server's remote backends and renders them on a local
backend (docs/worker-protocol.md). SIGTERM/SIGINT: stop claiming, finish running jobs within
--grace-seconds, give back the rest; a second signal gives them back at once.

Options:
  --server URL              the Atelier server (or ATELIER_SERVER)
  --token atw_…             a worker token from \`atelier workers add NAME\` (or ATELIER_WORKER_TOKEN)
  --backend KIND            builtin (default), comfyui or a1111
  --url BACKEND_URL         the local ComfyUI / A1111 (required for those)
  --concurrency N           jobs at once, 1-64 (default 1)
  --backends NAME,…         only these remote backends' jobs
  --upload-mode MODE        multipart (default), direct or presigned
  --grace-seconds N         time to finish running jobs on shutdown (default 30)
  --worker-id ID            this worker's id in the server's records
  --checkpoint NAME         the checkpoint to load (comfyui, a1111)
  --workflows FILE          workflow templates (comfyui)
  --timeout-seconds N       a job's time limit (default 1800)
  -h, --help                this help
`;

export const CLEANUP_USAGE = `Usage: atelier cleanup [--dry-run]

Deletes expired workspace items, old uploads and old job inputs now: the retention sweep the
server runs periodically, over the configured database and storage. --dry-run lists what
would go and changes nothing. Safe while the server runs.
`;

/** The first line of each command's usage, for `atelier --help`. */
export const COMMAND_SUMMARIES: readonly (readonly [string, string])[] = [
  ['serve', 'start the server'],
  ['generate "PROMPT" [options]', 'generate through a running server and write the files'],
  ['users list | add NAME [--admin] | remove NAME | token NAME [--rotate]', 'manage users and their API tokens'],
  ['workers add NAME | list | remove NAME', 'manage remote workers and their tokens'],
  ['worker --server URL --token atw_… [options]', 'run a remote worker (docs/worker-protocol.md)'],
  ['cleanup [--dry-run]', 'delete expired workspace items, old uploads and job inputs now'],
  ['models pull URL [options]', "download a model file into a backend's model folder"],
];

export const MAIN_USAGE = `Atelier — self-hosted generation server

Usage: atelier COMMAND [options]

Commands:
${COMMAND_SUMMARIES.map(([command, what]) => `  atelier ${command}\n      ${what}`).join('\n')}

  atelier COMMAND --help    a command's options
  atelier --version         the version

The commands that open the database (users, workers, cleanup) read the configuration as
\`atelier serve\` does: environment variables, then atelier.config.json in the working
directory (or the file ATELIER_CONFIG names).
`;
