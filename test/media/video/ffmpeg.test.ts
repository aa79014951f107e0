import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ffmpegPath, ffprobePath, runFfmpeg, runTool } from '../../../src/media/video/ffmpeg.js';

describe('runFfmpeg', () => {
  it('uses the installer packages’ binaries, and ffmpeg has libx264', async () => {
    expect(ffmpegPath).toMatch(/@ffmpeg-installer/);
    expect(ffprobePath).toMatch(/@ffprobe-installer/);
    const { stdout } = await runFfmpeg(['-hide_banner', '-encoders']);
    expect(stdout.toString()).toContain('libx264');
  });

  it('pipes a Readable into stdin and collects stdout', async () => {
    const rgb = Buffer.alloc(4 * 4 * 3, 200);
    const args = ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '4x4', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'];
    const { stdout } = await runFfmpeg(args, { stdin: Readable.from([rgb.subarray(0, 20), rgb.subarray(20)]) });
    expect([...stdout]).toEqual(Array(16).fill(200));
  });

  it("rejects with stderr's last lines on a non-zero exit", async () => {
    await expect(runFfmpeg(['-hide_banner', '-i', '/nonexistent/input.mp4', '-f', 'null', '-'])).rejects.toThrow(/ffmpeg exited with 1: .*No such file or directory/s);
  });

  it('rejects at once, without spawning, when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    await expect(runFfmpeg(['-version'], { signal: controller.signal })).rejects.toThrow('stop now');
  });

  it('kills a running process on abort and rejects with the reason', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 100);
    // An endless source: only the kill can end this.
    const run = runFfmpeg(['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=rate=10', '-f', 'null', '-'], { signal: controller.signal });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('reports a binary that cannot start', async () => {
    await expect(runTool('/nonexistent/ffmpeg', [])).rejects.toThrow(/Could not start/);
  });
});
