import { startSimulatedWorker } from './simulated-worker.js';

/**
 * One simulated worker (bench/simulated-worker.ts, no work) in a process of its own, as a real
 * worker would be on its GPU machine, so its CPU reads apart from the bench and the nodes.
 * Forked with IPC: `node worker-child.js <serverUrl> <workerToken>`. Reports `{ done }` when
 * the count changes (at most every 10 ms, so reporting stays cheap); `'stop'` stops it.
 */
const [serverUrl, token] = process.argv.slice(2) as [string, string];
const worker = startSimulatedWorker(serverUrl, token, 0);
let reported = -1;
const report = () => {
  if (worker.done() !== reported) process.send!({ done: (reported = worker.done()) });
};
const timer = setInterval(report, 10);
process.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  // Exit at once: the fetch agent's keep-alive sockets would hold the process for seconds.
  void worker.stop().then(() => process.send!({ done: worker.done() }, () => process.exit(0)));
});
