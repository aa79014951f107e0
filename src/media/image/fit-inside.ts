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
