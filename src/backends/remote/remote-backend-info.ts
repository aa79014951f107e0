import { STANDARD_SAMPLERS, type BackendCapabilities, type BackendInfo } from '../backend.js';
import type { ControlNetType } from '../../jobs/conditioning.js';
import type { Mode } from '../../jobs/job-spec.js';

/** The configuration of a `remote` backend (config-schema.ts `backends.<name>`). */
export interface RemoteBackendSettings {
  readonly type: 'remote';
  readonly label?: string;
  readonly modes?: readonly Mode[];
  readonly samplers?: readonly string[];
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  readonly maxSteps?: number;
  readonly maxBatch?: number;
  readonly cancel?: boolean;
  readonly preview?: boolean;
  /** The workers can run hires fix (builtin and a1111 workers can); default false. */
  readonly hiresFix?: boolean;
  /** Guided generation the workers can do (seed 002); default none. */
  readonly controlnet?: readonly ControlNetType[];
  readonly guidanceImages?: number;
}

/** What a remote backend can do when its configuration does not say (an SDXL-class worker). */
export const REMOTE_DEFAULT_CAPABILITIES: BackendCapabilities = Object.freeze({
  modes: Object.freeze(['t2i', 'i2i'] as const),
  samplers: STANDARD_SAMPLERS,
  maxWidth: 2048,
  maxHeight: 2048,
  maxSteps: 150,
  maxBatch: 8,
  cancel: true,
  preview: true,
  hiresFix: false,
  controlnet: Object.freeze([]),
  guidanceImages: 0,
});

/**
 * A backend whose jobs run on remote workers (SPEC §6 `remote`), as data: the registry,
 * validation and routing see its capabilities, which come from configuration. Its jobs go to
 * the queue lane `remote:<name>` and are pulled by workers over /api/worker; no process runs
 * them in-process, so it has no `generate`.
 */
export function remoteBackendInfo(name: string, settings: RemoteBackendSettings): BackendInfo {
  const d = REMOTE_DEFAULT_CAPABILITIES;
  const capabilities: BackendCapabilities = Object.freeze({
    modes: Object.freeze([...(settings.modes ?? d.modes)]),
    samplers: Object.freeze([...(settings.samplers ?? d.samplers)]),
    maxWidth: settings.maxWidth ?? d.maxWidth,
    maxHeight: settings.maxHeight ?? d.maxHeight,
    maxSteps: settings.maxSteps ?? d.maxSteps,
    maxBatch: settings.maxBatch ?? d.maxBatch,
    cancel: settings.cancel ?? d.cancel,
    preview: settings.preview ?? d.preview,
    hiresFix: settings.hiresFix ?? d.hiresFix,
    controlnet: Object.freeze([...(settings.controlnet ?? d.controlnet ?? [])]),
    guidanceImages: settings.guidanceImages ?? d.guidanceImages ?? 0,
  });
  return Object.freeze({ kind: 'remote', label: settings.label ?? `Remote workers (${name})`, capabilities });
}
