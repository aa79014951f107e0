import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { loadConfig } from '../../src/main/load-config.js';
import { checkWatermarks, resolvePresets } from '../../src/main/resolve-presets.js';
import { STUDIO } from '../media/image/studio-preset.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('resolvePresets with the configuration file', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir('atelier-presets-');
    await mkdir(join(tmp.dir, 'conf', 'marks'), { recursive: true });
  });
  afterEach(() => tmp.remove());

  /** Loads `conf/atelier.json` from a different working directory, as a server started elsewhere would. */
  async function load(presets: unknown[], defaultPreset = 'studio') {
    await writeFile(join(tmp.dir, 'conf', 'atelier.json'), JSON.stringify({ presets, media: { defaultPreset } }));
    return resolvePresets(loadConfig({ ATELIER_CONFIG: 'conf/atelier.json' }, tmp.dir));
  }

  it("makes issue #17's studio preset the default, with a watermark image named relative to the file", async () => {
    await writeFile(join(tmp.dir, 'conf', 'marks', 'logo.png'), Buffer.from('not checked for pixels here'));
    const presets = await load([{ ...STUDIO, watermark: { image: 'marks/logo.png', position: 'south-west', opacity: 0.4 } }]);
    const studio = presets.forModel({ name: 'any' } as never);
    expect(studio.name).toBe('studio');
    expect(studio.extra?.map((e) => [e.name, e.fit, e.position])).toEqual([['square', 'cover', 'attention']]);
    expect(studio.watermark).toEqual({ image: join(tmp.dir, 'conf', 'marks', 'logo.png'), position: 'south-west', opacity: 0.4, size: 0.2 });
    // The defaults stay beside it.
    expect(presets.all.map((p) => p.name)).toEqual(['dall-e', 'sora', 'stable-diffusion', 'studio']);
  });

  it('refuses at start-up a watermark file that is not there, naming the field and the resolved path', async () => {
    const error = await load([{ ...STUDIO, watermark: { image: 'marks/missing.png' } }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AtelierError);
    expect((error as AtelierError).code).toBe('config_invalid');
    expect((error as AtelierError).field).toBe('presets.studio.watermark.image');
    expect((error as AtelierError).message).toContain(join(tmp.dir, 'conf', 'marks', 'missing.png'));
  });

  it('refuses at start-up a watermark file that is there but does not decode as an image, naming the field and the path', async () => {
    await writeFile(join(tmp.dir, 'conf', 'marks', 'logo.png'), Buffer.from('not a picture at all'));
    const presets = await load([{ ...STUDIO, watermark: { image: 'marks/logo.png' } }]);
    const error = await checkWatermarks(presets.all).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AtelierError);
    expect((error as AtelierError).code).toBe('config_invalid');
    expect((error as AtelierError).field).toBe('presets.studio.watermark.image');
    expect((error as AtelierError).message).toContain(`${join(tmp.dir, 'conf', 'marks', 'logo.png')}', which cannot be read as an image`);
  });

  it('passes a watermark image that decodes and a text watermark where fontconfig finds a font (this machine)', async () => {
    await writeFile(join(tmp.dir, 'conf', 'marks', 'logo.png'), await sharp({ create: { width: 40, height: 20, channels: 4, background: '#f0f' } }).png().toBuffer());
    const presets = await load([
      { ...STUDIO, watermark: { image: 'marks/logo.png' } },
      { ...STUDIO, name: 'proofs', watermark: { text: '© Proofs' } },
    ]);
    await expect(checkWatermarks(presets.all)).resolves.toBeUndefined();
  });

  it('refuses an unknown format at start-up, naming the field', async () => {
    const error = await load([{ ...STUDIO, high: { ...STUDIO.high, format: 'jxl' } }]).catch((e: unknown) => e);
    expect((error as AtelierError).field).toBe('presets.studio.high.format');
  });
});
