// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../history/fake-api';
import type { ImageSlot } from '../../../web/src/features/generate/image-slot';
import { GuidanceUploader } from '../../../web/src/features/uploads/guidance-uploader';
import { ImageInput } from '../../../web/src/features/uploads/image-input';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const png = (name = 'harbour.png') => new File([new Uint8Array([137, 80, 78, 71])], name, { type: 'image/png' });
const gif = () => new File([new Uint8Array([71, 73, 70])], 'cat.gif', { type: 'image/gif' });

/** A paste of `files` on the page, as the browser sends it to the focused element. */
function paste(files: File[], target: EventTarget = document.activeElement ?? document.body) {
  const event = new Event('paste', { bubbles: true, cancelable: true });
  Object.defineProperty(event, 'clipboardData', { value: { files, types: ['Files'] } });
  target.dispatchEvent(event);
  return event;
}

const zoneOf = (label: string) => screen.getByLabelText(label).closest('[data-testid="drop-zone"]') as HTMLElement;

describe('ImageInput', () => {
  it('hides the native file input behind a "Choose image" control; the input keeps the field label', () => {
    render(<ImageInput label="Reference image" previewAlt="Reference preview" slot={undefined} onPick={() => undefined} onClear={() => undefined} />);
    const input = screen.getByLabelText('Reference image') as HTMLInputElement;
    expect(input.type).toBe('file');
    expect(input.className).toBe('visually-hidden');
    expect(input.accept).toBe('image/png,image/jpeg,image/webp');
    expect(zoneOf('Reference image').textContent).toContain('Choose image');
    expect(document.getElementById(input.getAttribute('aria-describedby')!)!.textContent).toContain('paste (Ctrl+V)');
  });

  it('takes a dropped image, and explains a refused one without uploading it', () => {
    const onPick = vi.fn();
    render(<ImageInput label="Reference image" previewAlt="Reference preview" slot={undefined} onPick={onPick} onClear={() => undefined} />);
    const zone = zoneOf('Reference image');
    fireEvent.dragOver(zone, { dataTransfer: { types: ['Files'], files: [] } });
    expect(zone.className).toContain('dragging');
    const file = png();
    fireEvent.drop(zone, { dataTransfer: { types: ['Files'], files: [file] } });
    expect(zone.className).not.toContain('dragging');
    expect(onPick).toHaveBeenCalledWith(file);

    onPick.mockClear();
    fireEvent.change(screen.getByLabelText('Reference image'), { target: { files: [gif()] } });
    expect(onPick).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toBe('“cat.gif” is a GIF image. Use a PNG, JPEG or WebP image.');
    expect(document.querySelector('img')).toBeNull();
  });

  it('takes a pasted image (Ctrl+V) into the focused zone, else the first empty one', () => {
    const start = vi.fn();
    const end = vi.fn();
    const filled: ImageSlot = { key: 's', name: 'start.png', status: 'ready', progress: 1, ref: { upload_id: 'u1' }, previewUrl: 'blob:s' };
    render(
      <>
        <textarea aria-label="Prompt" />
        <ImageInput label="Start frame" previewAlt="Start preview" slot={filled} onPick={start} onClear={() => undefined} />
        <ImageInput label="End frame" previewAlt="End preview" slot={undefined} onPick={end} onClear={() => undefined} />
      </>,
    );
    // Focus in the prompt: the first empty zone (the end frame) takes it.
    screen.getByLabelText('Prompt').focus();
    const first = png('one.png');
    expect(paste([first]).defaultPrevented).toBe(true);
    expect(end).toHaveBeenCalledWith(first);
    expect(start).not.toHaveBeenCalled();
    // Focus in the start frame's zone: it takes it (a replacement).
    screen.getByLabelText('Start frame').focus();
    const second = png('two.png');
    paste([second]);
    expect(start).toHaveBeenCalledWith(second);
    // A paste of text only is left to the text field.
    screen.getByLabelText('Prompt').focus();
    expect(paste([]).defaultPrevented).toBe(false);
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('takes a file dropped beside the zones instead of letting the browser leave the page for it', () => {
    const onPick = vi.fn();
    render(
      <>
        <textarea aria-label="Prompt" />
        <ImageInput label="Reference image" previewAlt="Reference preview" slot={undefined} onPick={onPick} onClear={() => undefined} />
      </>,
    );
    const prompt = screen.getByLabelText('Prompt');
    const over = new Event('dragover', { bubbles: true, cancelable: true });
    Object.defineProperty(over, 'dataTransfer', { value: { types: ['Files'], files: [] } });
    prompt.dispatchEvent(over);
    expect(over.defaultPrevented).toBe(true);
    const file = png('beside.png');
    const drop = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(drop, 'dataTransfer', { value: { types: ['Files'], files: [file] } });
    prompt.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    expect(onPick).toHaveBeenCalledWith(file);
    // Dragged text is none of this code's business.
    const text = new Event('dragover', { bubbles: true, cancelable: true });
    Object.defineProperty(text, 'dataTransfer', { value: { types: ['text/plain'], files: [] } });
    prompt.dispatchEvent(text);
    expect(text.defaultPrevented).toBe(false);
  });

  it('shows a readable name instead of an id, and no broken-image icon for a refused upload or a picture that fails', async () => {
    const fromHistory: ImageSlot = { key: 'a', name: 'Asset f5dc126d-1f2a-4b3c-8d4e-5f6a7b8c9d0e', status: 'ready', progress: 1, ref: { asset_id: 'f5dc126d-1f2a-4b3c-8d4e-5f6a7b8c9d0e' }, previewUrl: 'http://h/media/t.webp' };
    const { calls } = fakeApi(({ url }) => (url.pathname === '/api/images/f5dc126d-1f2a-4b3c-8d4e-5f6a7b8c9d0e' ? { body: { id: 'f5dc126d', prompt: 'a stone bridge over a river at dawn, mist' } } : undefined));
    const { rerender } = render(<ImageInput label="Reference image" previewAlt="Reference preview" slot={fromHistory} onPick={() => undefined} onClear={() => undefined} />);
    // At once a readable name, then the one naming its prompt.
    expect(screen.getByText('Image from history')).toBeTruthy();
    expect(await screen.findByText('Image from history · a stone bridge over a river…')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Remove Image from history · a stone bridge over a river…' })).toBeTruthy();
    expect(screen.queryByText(/f5dc126d/)).toBeNull();
    expect(calls.map((c) => c.url.pathname)).toEqual(['/api/images/f5dc126d-1f2a-4b3c-8d4e-5f6a7b8c9d0e']);
    // The picture fails to load: words, not the broken icon.
    fireEvent.error(screen.getByRole('img', { name: 'Reference preview' }));
    expect(screen.queryByRole('img')).toBeNull();
    expect(screen.getByText('No preview')).toBeTruthy();

    const refused: ImageSlot = { key: 'b', name: 'fake.png', status: 'error', progress: 1, previewUrl: 'blob:x', error: 'Expected a PNG, JPEG or WebP image for file but received bytes of another kind' };
    rerender(<ImageInput label="Reference image" previewAlt="Reference preview" slot={refused} onPick={() => undefined} onClear={() => undefined} />);
    expect(screen.queryByRole('img')).toBeNull();
    expect(screen.getByRole('alert').textContent).toBe('fake.png: Expected a PNG, JPEG or WebP image for file but received bytes of another kind');
    expect(screen.getByText('Not used')).toBeTruthy();
  });
});

describe('GuidanceUploader', () => {
  it('names an image passed by its upload id by the uploaded file name', async () => {
    fakeApi(({ url }) => (url.pathname === '/api/uploads/a043d38c-1f2a-4b3c-8d4e-5f6a7b8c9d0e' ? { body: { uploadId: 'a043d38c', filename: 'sketch.png', status: 'ready', metadata: null } } : undefined));
    const byId: ImageSlot = { key: 'u', name: 'Upload a043d38c-1f2a-4b3c-8d4e-5f6a7b8c9d0e', status: 'ready', progress: 1, ref: { upload_id: 'a043d38c-1f2a-4b3c-8d4e-5f6a7b8c9d0e' } };
    render(<GuidanceUploader slots={[byId]} max={2} onPick={() => undefined} onRemove={() => undefined} />);
    expect(await screen.findByRole('button', { name: 'Remove sketch.png' })).toBeTruthy();
    expect(screen.queryByText(/a043d38c/)).toBeNull();
  });

  it('takes dropped images up to the room left and says what was left out', () => {
    const onPick = vi.fn();
    const one: ImageSlot = { key: 'a', name: 'a.png', status: 'ready', progress: 1, ref: { upload_id: 'u' }, previewUrl: 'blob:a' };
    render(<GuidanceUploader slots={[one]} max={3} onPick={onPick} onRemove={() => undefined} />);
    const files = [png('b.png'), gif(), png('c.png'), png('d.png')];
    fireEvent.drop(zoneOf('Guidance images'), { dataTransfer: { types: ['Files'], files } });
    expect(onPick).toHaveBeenCalledWith([files[0], files[2]]);
    const problems = within(screen.getByRole('alert')).getAllByRole('listitem').map((li) => li.textContent);
    expect(problems).toEqual(['“cat.gif” is a GIF image. Use a PNG, JPEG or WebP image.', 'Only 2 more images fit: the rest were left out.']);
  });
});
