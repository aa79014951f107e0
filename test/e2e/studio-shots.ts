import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/**
 * Screenshots for looking at the screens by eye (issue #16), written outside the repository:
 * STUDIO_SHOTS_DIR when set, else /tmp/studio-shots. Returns the path.
 */
export async function studioShot(page: Page, name: string): Promise<string> {
  const dir = process.env.STUDIO_SHOTS_DIR ?? '/tmp/studio-shots';
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: false, animations: 'disabled' });
  return path;
}
