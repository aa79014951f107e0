/**
 * Where a pasted image goes (Ctrl+V anywhere on the page), and one dropped beside the zones.
 * Every drop zone on screen registers here; files go to the zone holding the focus, else to
 * the first empty zone, else to the first zone, in page order. A paste of plain text is left
 * alone; a file dropped on the page outside a zone is taken the same way instead of the
 * browser leaving the page to show it (and losing the form).
 */
export interface PasteZone {
  readonly element: HTMLElement;
  /** Whether the zone holds no image yet (an empty one is preferred). */
  isEmpty(): boolean;
  take(files: File[]): void;
}

const zones = new Set<PasteZone>();

function target(): PasteZone | undefined {
  const ordered = [...zones].filter((zone) => zone.element.isConnected).sort((a, b) => (a.element.compareDocumentPosition(b.element) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  const active = document.activeElement;
  return ordered.find((zone) => active && zone.element.contains(active)) ?? ordered.find((zone) => zone.isEmpty()) ?? ordered[0];
}

function deliver(event: Event, files: File[]): void {
  const zone = files.length > 0 ? target() : undefined;
  if (!zone) return;
  event.preventDefault();
  zone.take(files);
}

const onPaste = (event: ClipboardEvent) => deliver(event, [...(event.clipboardData?.files ?? [])]);

const carriesFiles = (event: DragEvent) => !!event.dataTransfer?.types.includes('Files');

function onDragOver(event: DragEvent): void {
  if (carriesFiles(event)) event.preventDefault(); // allows the drop (below) instead of navigating
}

function onDrop(event: DragEvent): void {
  // A zone took it already (it prevents the default), or it is not files.
  if (event.defaultPrevented || !carriesFiles(event)) return;
  deliver(event, [...(event.dataTransfer?.files ?? [])]);
}

/** Registers a zone; returns the function that removes it. */
export function registerPasteZone(zone: PasteZone): () => void {
  if (zones.size === 0) {
    document.addEventListener('paste', onPaste);
    document.addEventListener('dragover', onDragOver);
    document.addEventListener('drop', onDrop);
  }
  zones.add(zone);
  return () => {
    zones.delete(zone);
    if (zones.size === 0) {
      document.removeEventListener('paste', onPaste);
      document.removeEventListener('dragover', onDragOver);
      document.removeEventListener('drop', onDrop);
    }
  };
}
