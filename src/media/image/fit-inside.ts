/** Width and height in pixels. */
export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * The size of `source` fitted inside `box`, aspect preserved, never enlarged — the same
 * arithmetic as sharp's `resize(w, h, { fit: 'inside', withoutEnlargement: true })`, so sizes
 * computed here match what sharp would produce on its own.
 *
 * @example fitInside({ width: 3000, height: 2000 }, { width: 1024, height: 1024 }) // 1024×683
 */
export function fitInside(source: Size, box: Size): Size {
  // The larger reduction factor is the binding edge; below 1 would enlarge.
  const factor = Math.max(source.width / box.width, source.height / box.height, 1);
  return {
    width: Math.max(1, Math.min(box.width, Math.round(source.width / factor))),
    height: Math.max(1, Math.min(box.height, Math.round(source.height / factor))),
  };
}

/**
 * The size a `cover` crop of `source` to `box` produces without enlarging: the box itself
 * when the source covers it, else the largest size of the box's shape the source does cover
 * (a 200×100 source for a 256² square gives 100×100, not an upscaled 256×256).
 *
 * @example fitCover({ width: 1024, height: 768 }, { width: 256, height: 256 }) // 256×256
 */
export function fitCover(source: Size, box: Size): Size {
  const factor = Math.min(source.width / box.width, source.height / box.height, 1);
  return {
    width: Math.max(1, Math.min(source.width, Math.round(box.width * factor))),
    height: Math.max(1, Math.min(source.height, Math.round(box.height * factor))),
  };
}

/**
 * The smallest size of `source`'s own shape from which a cover crop of `target` needs no
 * enlarging: what the source must be decoded to for that crop.
 *
 * @example coverSource({ width: 2000, height: 1000 }, { width: 256, height: 256 }) // 512×256
 */
export function coverSource(source: Size, target: Size): Size {
  const scale = Math.min(1, Math.max(target.width / source.width, target.height / source.height));
  return { width: Math.min(source.width, Math.ceil(source.width * scale)), height: Math.min(source.height, Math.ceil(source.height * scale)) };
}
