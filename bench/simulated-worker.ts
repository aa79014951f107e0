import sharp from 'sharp';

/**
 * A remote worker reduced to the protocol: long-poll a claim, "render" on a simulated GPU for
 * `latencyMs` (0 = no work at all), upload a tiny PNG and post the completion callback. Two
 * loops share one GPU, as a good worker overlaps uploading one job with rendering the next.
 */
export interface SimulatedWorker {
  /** Jobs this worker completed. */
  readonly done: () => number;
  stop(): Promise<void>;
}

let tinyPng: Promise<Buffer> | undefined;

export function startSimulatedWorker(serverUrl: string, workerToken: string, latencyMs: number): SimulatedWorker {
  tinyPng ??= sharp({ create: { width: 64, height: 64, channels: 3, background: '#664488' } }).png().toBuffer();
  const auth = { authorization: `Bearer ${workerToken}`, 'content-type': 'application/json' };
  const gpu = { busy: Promise.resolve() };
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
      const job = (await claim.json()) as { job_id: string; lease_token: string; upload: { urls: string[] } };
      if (latencyMs > 0) {
        const render = gpu.busy.then(() => new Promise<void>((r) => setTimeout(r, latencyMs)));
        gpu.busy = render;
        await render;
      }
      const uploaded = (await (await fetch(job.upload.urls[0]!, { method: 'PUT', headers: { authorization: auth.authorization, 'content-type': 'image/png' }, body: png })).json()) as { url: string };
      await fetch(`${serverUrl}/api/worker/jobs/${job.job_id}/complete`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ job_id: job.job_id, lease_token: job.lease_token, status: 'completed', assets: [{ type: 'image', url: uploaded.url, metadata: {} }], error_message: null, metadata: {} }),
      }).then((r) => r.arrayBuffer());
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
