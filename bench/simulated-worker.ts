import sharp from 'sharp';

/**
 * A remote worker reduced to the protocol: long-poll a claim, "render" on a simulated GPU for
 * `latencyMs` (0 = no work at all), post the completion callback with a tiny PNG in it. Two
 * loops share one GPU, as a good worker overlaps uploading one job with rendering the next.
 */
export interface SimulatedWorker {
  /** Jobs this worker completed. */
  readonly done: () => number;
  stop(): Promise<void>;
}

let tinyPng: Promise<Blob> | undefined;

export function startSimulatedWorker(serverUrl: string, workerToken: string, latencyMs: number): SimulatedWorker {
  tinyPng ??= sharp({ create: { width: 64, height: 64, channels: 3, background: '#664488' } })
    .png()
    .toBuffer()
    .then((png) => new Blob([png], { type: 'image/png' }));
  const auth = { authorization: `Bearer ${workerToken}`, 'content-type': 'application/json' };
  // The GPU's own clock: a job queued behind another starts the instant that one ends, as on a
  // real GPU, not when this process's timer for the first one happens to fire (each firing is
  // late by a millisecond or more, which chained renders used to add up into the makespan).
  let gpuFreeAt = 0;
  let done = 0;
  let stopped = false;

  async function loop(): Promise<void> {
    const png = await tinyPng!;
    while (!stopped) {
      const claim = await fetch(`${serverUrl}/api/worker/claim`, { method: 'POST', headers: auth, body: JSON.stringify({ wait_seconds: 1 }) });
      if (claim.status === 204) {
        await claim.arrayBuffer();
        continue;
      }
      const job = (await claim.json()) as { job_id: string; lease_token: string; upload: { complete_parts: string[] } };
      if (latencyMs > 0) {
        gpuFreeAt = Math.max(performance.now(), gpuFreeAt) + latencyMs;
        const finishedAt = gpuFreeAt;
        await new Promise<void>((r) => setTimeout(r, Math.max(0, finishedAt - performance.now())));
      }
      // The output travels in the completion callback itself: one request, nothing staged.
      const form = new FormData();
      form.append('result', JSON.stringify({ job_id: job.job_id, lease_token: job.lease_token, status: 'completed', error_message: null, metadata: {} }));
      form.append(job.upload.complete_parts[0]!, png, '0.png');
      const completed = await fetch(`${serverUrl}/api/worker/jobs/${job.job_id}/complete`, { method: 'POST', headers: { authorization: auth.authorization }, body: form });
      const answer = await completed.text();
      // Said, not thrown: a loop that died would leave the bench waiting forever.
      if (!completed.ok) process.stderr.write(`simulated worker: completion of ${job.job_id} → ${completed.status} ${answer.slice(0, 200)}\n`);
      done++;
    }
  }

  const loops = [loop(), loop()];
  return {
    done: () => done,
    async stop() {
      stopped = true;
      await Promise.allSettled(loops);
    },
  };
}
