import { describe, expect, it } from 'vitest';
import { historyImageLabel, readableName, refusal } from '../../../web/src/features/uploads/image-file';

const file = (name: string, type: string) => new File([new Uint8Array([1, 2, 3])], name, { type });

describe('which files the uploads take, in words', () => {
  it('takes PNG, JPEG and WebP, by type or, when the browser gives none, by extension', () => {
    for (const f of [file('a.png', 'image/png'), file('b.jpg', 'image/jpeg'), file('c.webp', 'image/webp'), file('d.JPEG', ''), file('e.png', '')]) expect(refusal(f), f.name).toBeUndefined();
  });

  it('explains a refused file by what it is', () => {
    expect(refusal(file('cat.gif', 'image/gif'))).toBe('“cat.gif” is a GIF image. Use a PNG, JPEG or WebP image.');
    expect(refusal(file('notes.pdf', 'application/pdf'))).toBe('“notes.pdf” is not an image. Use a PNG, JPEG or WebP image.');
    expect(refusal(file('mystery', ''))).toBe('“mystery” is not a file Atelier can read as an image. Use a PNG, JPEG or WebP image.');
    expect(refusal(file('', 'image/svg+xml'))).toBe('That file is a SVG+XML image. Use a PNG, JPEG or WebP image.');
  });
});

describe('readable names for input images', () => {
  it('replaces the id fallbacks with what the image is, and keeps file names', () => {
    expect(readableName('Asset f5dc126d-1f2a-4b3c-8d4e-5f6a7b8c9d0e')).toBe('Image from history');
    expect(readableName('Upload a043d38c-1f2a-4b3c-8d4e-5f6a7b8c9d0e')).toBe('Uploaded image');
    expect(readableName('harbour.png')).toBe('harbour.png');
    expect(readableName('Asset of the week.png')).toBe('Asset of the week.png');
  });

  it('names an image from history by the start of its prompt', () => {
    expect(historyImageLabel('a lighthouse at dusk')).toBe('Image from history · a lighthouse at dusk');
    expect(historyImageLabel('a lighthouse at dusk, oil painting, warm light')).toBe('Image from history · a lighthouse at dusk, oil…');
    expect(historyImageLabel('   ')).toBe('Image from history');
    expect(historyImageLabel(undefined)).toBe('Image from history');
    expect(historyImageLabel('x'.repeat(40))).toBe(`Image from history · ${'x'.repeat(28)}…`);
  });
});
