/**
 * Helpers for the cache, cost, rate-limit, moderation, evaluation and admin-metrics API tests:
 * a configuration file writer, the default model registry, uploads and metrics scrapes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ConfigSchema } from '../../src/main/config-schema.js';
import { apiClient } from './api.js';
import type { ServerUnderTest } from './test-server.js';

export { startInjectServerOnDir, startServerOnDir } from './test-server.js';

/** A deep copy of the built-in model registry (the `models` default of the config schema). */
export function defaultModels(): Record<string, unknown>[] {
  const models = (ConfigSchema.properties.models as unknown as { default: Record<string, unknown>[] }).default;
  return structuredClone(models);
}

/** Writes `atelier.config.json` into `dir` and returns its path (for ATELIER_CONFIG). */
export async function writeConfigFile(dir: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, 'atelier.config.json');
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

/** Uploads bytes over `POST /api/uploads` (multipart) and returns the upload id. */
export async function uploadBytes(t: ServerUnderTest, token: string, bytes: Buffer, filename = 'ref.png'): Promise<string> {
  const res = await apiClient(t, token).upload(bytes, filename);
  if (res.status !== 201) throw new Error(`upload → ${res.status} ${res.text}`);
  return res.body.uploadId as string;
}

/** The Prometheus text of `/metrics`, scraped with the admin token. */
export async function metricsText(t: ServerUnderTest): Promise<string> {
  const res = await apiClient(t, t.adminToken).get('/metrics');
  if (res.status !== 200) throw new Error(`/metrics → ${res.status}`);
  return res.text;
}

/** The value of one sample (`name{labels}` exactly as exported, or a bare name), 0 when absent. */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space > 0 && line.slice(0, space) === sample) return Number(line.slice(space + 1));
  }
  return 0;
}

/** The sum of every sample of a metric (all label sets). */
export function metricSum(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A reference image with structure (gradient plus shapes), so similarity scores mean something. */
export function structuredPng(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#1d3557"/><stop offset="1" stop-color="#e63946"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 3}" cy="${height / 2}" r="${height / 4}" fill="#f1faee"/>
    <rect x="${width / 2}" y="${height / 4}" width="${width / 4}" height="${height / 3}" fill="#a8dadc"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
