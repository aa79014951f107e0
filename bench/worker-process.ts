import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The parent side of bench/worker-child.ts. */
export interface WorkerProcess {
  readonly pid: number;
  /** Jobs it completed, as last reported. */
  done(): number;
  /** Why it exited, if it did: a dead worker must fail the run, not leave it waiting. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

export function forkSimulatedWorker(serverUrl: string, workerToken: string): WorkerProcess {
  const child = fork(fileURLToPath(new URL('./worker-child.js', import.meta.url)), [serverUrl, workerToken], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let done = 0;
  child.on('message', (m) => (done = (m as { done: number }).done));
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = `simulated worker exited (${signal ?? code})`;
      resolve();
    }),
  );
  return {
    pid: child.pid!,
    done: () => done,
    exited: () => exit,
    async stop() {
      if (child.connected) child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
