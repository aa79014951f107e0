import { TERMINAL_STATUSES } from '../../src/jobs/job-status.js';
import type { SpawnedServer } from './spawn-server.js';

/** The part of GET /api/status/{runId} the crash tests read. */
export interface RunStatus {
  runId: string;
  status: string;
  attempts: number;
  progress: { step: number; totalSteps: number };
  assets: unknown[];
}

export const isTerminal = (status: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** A run's status from a spawned server; throws on anything but 200. */
export async function runStatus(server: SpawnedServer, token: string, runId: string): Promise<RunStatus> {
  const response = await fetch(`${server.url}/api/status/${runId}`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`status ${runId}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as RunStatus;
}
