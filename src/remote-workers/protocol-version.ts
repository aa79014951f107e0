import { UNVERSIONED_WORKER_PROTOCOL, WORKER_PROTOCOL_VERSION } from '../api/schemas/worker-protocol.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { JobSpec } from '../jobs/job-spec.js';

/** A `major.minor` worker protocol version. */
export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

const parse = (text: string): ProtocolVersion => {
  const [major, minor] = text.split('.').map(Number);
  return { major: major!, minor: minor! };
};

const SERVER = parse(WORKER_PROTOCOL_VERSION);

/**
 * The version a claiming worker speaks: the one it states (the schema checked the shape), or
 * 1.0 for a worker from before versions. Minors only add, so any minor of this server's major
 * is served — a job that needs a newer one is then refused by {@link unmetNeed}.
 *
 * @throws AtelierError `worker_protocol_unsupported` (422) for another major.
 * @example workerProtocol('1.1') // { major: 1, minor: 1 }
 */
export function workerProtocol(stated: string | undefined): ProtocolVersion {
  const version = parse(stated ?? UNVERSIONED_WORKER_PROTOCOL);
  if (version.major !== SERVER.major) {
    throw new AtelierError(
      'worker_protocol_unsupported',
      `This server speaks worker protocol ${WORKER_PROTOCOL_VERSION} (major ${SERVER.major}) but the worker speaks ${stated}; upgrade the ${version.major < SERVER.major ? 'worker' : 'server'}`,
      { field: 'protocol_version', details: { supported: `${SERVER.major}.x`, server: WORKER_PROTOCOL_VERSION } },
    );
  }
  return version;
}

/**
 * Why a worker speaking `version` cannot run `spec` faithfully, or undefined: LoRAs and model
 * backend settings arrived in 1.1, and a 1.0 worker would render without them while the job's
 * record says they were applied.
 */
export function unmetNeed(spec: Pick<JobSpec, 'loras' | 'backendSettings'>, version: ProtocolVersion): string | undefined {
  const needs11 = (spec.loras?.length ?? 0) > 0 || spec.backendSettings !== undefined;
  if (!needs11 || version.minor >= 1) return undefined;
  return `The job has LoRAs or model backend settings, which need worker protocol 1.1; the worker speaks ${version.major}.${version.minor} (upgrade it)`;
}
