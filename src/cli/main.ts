#!/usr/bin/env node
import { AtelierError } from '../errors/atelier-error.js';
import { cleanupCommand } from './commands/cleanup.js';
import { generateCommand } from './commands/generate.js';
import { modelsCommand } from './commands/models.js';
import { serveCommand } from './commands/serve.js';
import { usersCommand } from './commands/users.js';
import { workerCommand } from './commands/worker.js';
import { workersCommand } from './commands/workers.js';
import { CliError, UsageError } from './cli-error.js';

const HELP = `Atelier — self-hosted generation server

Usage:
  atelier serve                         start the server (configuration: environment and atelier.config.json)
  atelier generate "PROMPT" [options]   generate through a running server and write the files
      --steps N  --seed N  --size WxH  --num-images N  --negative TEXT  --model NAME
      --out DIR (default .)  --server URL (default http://127.0.0.1:8787)  --token TOKEN (or ATELIER_TOKEN)
  atelier users add NAME [--admin]      create a user and print its API token
  atelier workers add NAME              create a remote worker and print its worker token (atw_…); also: list, remove NAME
  atelier worker --server URL --token atw_… --backend builtin|comfyui|a1111 [--url BACKEND_URL] [--concurrency N]
                                        run a remote worker: pull jobs from the server, render them locally
                                        (docs/worker-protocol.md)
  atelier cleanup [--dry-run]           delete expired workspace items, old uploads and old job inputs now
                                        (retention; --dry-run lists them and changes nothing)
  atelier models pull URL [--dest DIR] [--name FILE] [--sha256 HEX] [--allow-private]
                                        download a model file into a backend's model folder (default: modelsDir);
                                        resumes, retries, checks disk space and SHA-256 (models pull --help)
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      return serveCommand();
    case 'generate':
      return generateCommand(args);
    case 'users':
      return usersCommand(args);
    case 'cleanup':
      return cleanupCommand(args);
    case 'workers':
      return workersCommand(args);
    case 'worker':
      return workerCommand(args);
    case 'models':
      return modelsCommand(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      throw new UsageError(`Unknown command '${command}'.\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof CliError || error instanceof AtelierError) {
    process.stderr.write(`atelier: ${error.message}\n`);
    process.exit(error instanceof UsageError ? 64 : 1);
  }
  process.stderr.write(`atelier: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
