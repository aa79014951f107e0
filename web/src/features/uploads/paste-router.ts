/**
 * Where a pasted image goes (Ctrl+V anywhere on the page). Every drop zone on screen registers
 * here; a paste carrying files goes to the zone holding the focus, else to the first empty
 * zone, else to the first zone, in page order. A paste of plain text is left alone.
 */
export interface PasteZone {
  readonly element: HTMLElement;
  /** Whether the zone holds no image yet (an empty one is preferred). */
  isEmpty(): boolean;
  take(files: File[]): void;
}

const zones = new Set<PasteZone>();

function onPaste(event: ClipboardEvent): void {
  const files = [...(event.clipboardData?.files ?? [])];
  if (files.length === 0 || zones.size === 0) return;
  const ordered = [...zones].filter((zone) => zone.element.isConnected).sort((a, b) => (a.element.compareDocumentPosition(b.element) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  const active = document.activeElement;
  const target = ordered.find((zone) => active && zone.element.contains(active)) ?? ordered.find((zone) => zone.isEmpty()) ?? ordered[0];
  if (!target) return;
  event.preventDefault();
  target.take(files);
}

/** Registers a zone; returns the function that removes it. */
export function registerPasteZone(zone: PasteZone): () => void {
  if (zones.size === 0) document.addEventListener('paste', onPaste);
  zones.add(zone);
  return () => {
    zones.delete(zone);
    if (zones.size === 0) document.removeEventListener('paste', onPaste);
  };
}
