import type { FastifyInstance, FastifyReply } from 'fastify';
import type { JobRow, UserRow } from '../../db/schema.js';
import { createTerminalWaiter } from '../../events/terminal-waiter.js';
import { isTerminal } from '../../jobs/job-status.js';
import type { AppDeps } from '../app-deps.js';

/** What a held request ends with: the run as it is now, or nothing when the client left. */
export type HeldRun = { readonly job: JobRow; readonly clientGone: false } | { readonly clientGone: true };

/**
 * Holds generation requests that sent `Prefer: wait` until their run ends (see
 * {@link RunWaits.hold}). Install once per plugin scope: when the server starts closing, every
 * held request is answered at once with the run's current state (a 202), since `app.close()`
 * waits for open requests and a run may take longer than the wait.
 */
export interface RunWaits {
  /**
   * Waits up to `seconds` for `job` to reach a terminal state, on the event bus (the job may
   * run on another node), and returns it as it then is. A client that disconnects ends the
   * wait (`clientGone`) and nothing else: the run goes on.
   */
  hold(user: UserRow, job: JobRow, seconds: number, reply: FastifyReply): Promise<HeldRun>;
}

export function createRunWaits(app: FastifyInstance, deps: Pick<AppDeps, 'events' | 'jobService'>): RunWaits {
  const held = new Set<AbortController>();
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    for (const controller of held) controller.abort();
    done();
  });

  return {
    async hold(user, job, seconds, reply) {
      if (isTerminal(job.status)) return { job, clientGone: false };
      if (closing) {
        void reply.header('connection', 'close');
        return { job, clientGone: false };
      }
      // Gone while the job was being submitted: its 'close' has already been emitted.
      if (reply.raw.destroyed || reply.raw.socket?.destroyed === true) return { clientGone: true };
      const controller = new AbortController();
      let clientGone = false;
      const onClose = () => {
        // 'close' before anything was sent: the client went away.
        if (reply.raw.writableFinished) return;
        clientGone = true;
        controller.abort();
      };
      // Subscribe first, then read: a run that ends in between is seen either way.
      const waiter = createTerminalWaiter(deps.events, job.id);
      held.add(controller);
      reply.raw.once('close', onClose);
      try {
        const current = await deps.jobService.getForUser(user, job.id);
        if (isTerminal(current.status)) return { job: current, clientGone: false };
        await waiter.wait(seconds * 1000, controller.signal);
      } finally {
        waiter.stop();
        held.delete(controller);
        reply.raw.off('close', onClose);
      }
      if (clientGone) return { clientGone: true };
      // Answered because the server is closing: without this the connection would stay open
      // (kept alive) after the answer, and close() would wait for the client to drop it.
      if (closing) void reply.header('connection', 'close');
      // Read again however the wait ended: at the deadline the run may have ended after all
      // (an event lost while Redis reconnected), and a terminal event's write precedes it.
      return { job: await deps.jobService.getForUser(user, job.id), clientGone: false };
    },
  };
}
