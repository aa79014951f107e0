// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { useReducer, useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JsonEditor, parseBody } from '../../../web/src/features/generate/json-editor';
import { ModeTabs } from '../../../web/src/features/generate/mode-tabs';
import { ModelFields } from '../../../web/src/features/generate/model-fields';
import { formReducer, INITIAL_FORM } from '../../../web/src/features/generate/form-state';
import type { ModelInfo, Tab } from '../../../web/src/features/generate/models';
import { SeedField } from '../../../web/src/features/generate/seed-field';
import { CostEstimateView } from '../../../web/src/features/generate/cost-estimate';
import { GuidanceUploader } from '../../../web/src/features/uploads/guidance-uploader';

afterEach(cleanup);

describe('mode tabs', () => {
  function Tabs() {
    const [tab, setTab] = useState<Tab>('t2i');
    return <ModeTabs tab={tab} onChange={setTab} />;
  }

  it('is a tablist moved with the arrow keys, Home and End, with one tab stop', () => {
    render(<Tabs />);
    const list = screen.getByRole('tablist');
    const tabs = within(list).getAllByRole('tab');
    expect(tabs.map((t) => t.textContent)).toEqual(['Text to image', 'Image to image', 'Video']);
    expect(tabs.map((t) => t.tabIndex)).toEqual([0, -1, -1]);
    tabs[0]!.focus();
    fireEvent.keyDown(tabs[0]!, { key: 'ArrowRight' });
    expect(screen.getByRole('tab', { name: 'Image to image' }).getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Image to image' }));
    fireEvent.keyDown(document.activeElement!, { key: 'End' });
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Video');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowRight' });
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Text to image');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowLeft' });
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Video');
  });
});

describe('seed field', () => {
  function Seed() {
    const [form, dispatch] = useReducer(formReducer, INITIAL_FORM);
    return (
      <>
        <SeedField form={form} dispatch={dispatch} />
        <output data-testid="state">{JSON.stringify({ seed: form.seed, locked: form.seedLocked })}</output>
        <button type="button" onClick={() => dispatch({ type: 'ran', seed: 4242 })}>
          finish a run
        </button>
      </>
    );
  }
  const state = () => JSON.parse(screen.getByTestId('state').textContent!) as { seed: number | null; locked: boolean };

  it('dice draws a fixed seed and locks; the lock toggles with aria-pressed', () => {
    render(<Seed />);
    const lock = screen.getByRole('button', { name: 'Lock seed' });
    expect(lock.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(screen.getByRole('button', { name: 'Random seed' }));
    const drawn = state();
    expect(drawn.locked).toBe(true);
    expect((screen.getByLabelText('Seed') as HTMLInputElement).value).toBe(String(drawn.seed));
    expect(lock.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(lock);
    expect(state()).toEqual({ seed: drawn.seed, locked: false });
  });

  it('typing a seed locks it; after a run "Reuse last seed" keeps that seed', () => {
    render(<Seed />);
    fireEvent.change(screen.getByLabelText('Seed'), { target: { value: '31' } });
    expect(state()).toEqual({ seed: 31, locked: true });
    fireEvent.click(screen.getByRole('button', { name: 'finish a run' }));
    fireEvent.click(screen.getByRole('button', { name: 'Reuse last seed' }));
    expect(state()).toEqual({ seed: 4242, locked: true });
    expect(screen.queryByRole('button', { name: 'Reuse last seed' })).toBeNull();
  });
});

describe('Advanced JSON editor', () => {
  it('parses what is typed: a body, or why not', () => {
    expect(parseBody('{"prompt": "a"}')).toEqual({ body: { prompt: 'a' } });
    expect(parseBody('{"prompt": ')).toMatchObject({ problem: expect.stringMatching(/^Not valid JSON/) });
    expect(parseBody('[1]')).toEqual({ problem: 'Expected a JSON object (the request body)' });
  });

  it('hands edits over, keeps the typed text while it is invalid, shows problems as an alert, and can discard', () => {
    const onEdit = vi.fn();
    const onSync = vi.fn();
    const view = (body: Record<string, unknown>, problems: string[]) => <JsonEditor body={body} problems={problems} onEdit={onEdit} onSync={onSync} />;
    const { rerender } = render(view({ prompt: 'a', steps: 30 }, []));
    const editor = screen.getByLabelText('Advanced JSON') as HTMLTextAreaElement;
    expect(JSON.parse(editor.value)).toEqual({ prompt: 'a', steps: 30 });
    expect(screen.queryByRole('alert')).toBeNull();
    fireEvent.focus(editor);
    fireEvent.change(editor, { target: { value: '{"prompt": "a", "steps": "many"}' } });
    expect(onEdit).toHaveBeenLastCalledWith('{"prompt": "a", "steps": "many"}');
    rerender(view({ prompt: 'a', steps: 30 }, ['steps: expected integer but received "many"']));
    expect(screen.getByRole('alert').textContent).toContain('steps: expected integer but received "many"');
    expect(editor.getAttribute('aria-invalid')).toBe('true');
    fireEvent.blur(editor);
    expect(editor.value).toBe('{"prompt": "a", "steps": "many"}');
    onSync.mockClear();
    fireEvent.click(screen.getByRole('button', { name: 'Discard JSON edits' }));
    expect(JSON.parse(editor.value)).toEqual({ prompt: 'a', steps: 30 });
    expect(onSync).toHaveBeenCalled();
  });

  it('shows form changes when not being edited', () => {
    const { rerender } = render(<JsonEditor body={{ prompt: 'a' }} problems={[]} onEdit={() => undefined} onSync={() => undefined} />);
    rerender(<JsonEditor body={{ prompt: 'a fox' }} problems={[]} onEdit={() => undefined} onSync={() => undefined} />);
    expect(JSON.parse((screen.getByLabelText('Advanced JSON') as HTMLTextAreaElement).value)).toEqual({ prompt: 'a fox' });
  });
});

describe('guidance uploader', () => {
  it('one progress bar per file while uploading, errors as alerts, capped by the model', () => {
    const onPick = vi.fn();
    render(
      <GuidanceUploader
        max={3}
        slots={[
          { key: 'a', name: 'a.png', status: 'uploading', progress: 0.42, previewUrl: 'blob:a' },
          { key: 'b', name: 'b.png', status: 'ready', progress: 1, ref: { upload_id: 'u' }, previewUrl: 'blob:b' },
          { key: 'c', name: 'c.png', status: 'error', progress: 0.1, error: 'Expected a PNG, JPEG or WEBP image' },
        ]}
        onPick={onPick}
        onRemove={() => undefined}
      />,
    );
    const bars = screen.getAllByRole('progressbar');
    expect(bars).toHaveLength(1);
    expect(bars[0]!.getAttribute('aria-valuenow')).toBe('42');
    expect(screen.getByRole('alert').textContent).toContain('c.png: Expected a PNG');
    const input = screen.getByLabelText('Guidance images') as HTMLInputElement;
    expect(input.multiple).toBe(true);
    expect(input.disabled).toBe(true); // 3 of 3
  });
});

describe('cost estimate', () => {
  it('shows the amount and the non-zero line items', () => {
    render(<CostEstimateView source="server" estimate={{ amount: 4.35, currency: 'credits', breakdown: { base: 1, pixelSteps: 3.15, frames: 0, controlnet: 0, hiresFix: 0, guidanceImages: 0.2 } }} />);
    const cost = screen.getByTestId('cost-estimate');
    expect(cost.textContent).toContain('4.35 credits');
    expect(cost.textContent).toContain('Denoising 3.15');
    expect(cost.textContent).not.toContain('Frames');
  });
});

describe('ModelFields: hires fix', () => {
  const preview: ModelInfo = {
    name: 'preview',
    label: 'Preview',
    default: true,
    modes: ['t2i', 'i2i'],
    defaults: { width: 1024, height: 1024, steps: 30, cfgScale: 7.5, sampler: 'Euler' },
    limits: { maxWidth: 2048, maxHeight: 2048, maxSteps: 150, maxImages: 8 },
    samplers: ['Euler'],
    capabilities: { controlnet: [], guidanceImages: 0, hiresFix: true },
  };
  const fields = (tab: Tab, model: ModelInfo) => {
    cleanup();
    render(<ModelFields form={{ ...INITIAL_FORM, tab, model: model.name }} models={[model]} model={model} dispatch={() => undefined} problems={[]} />);
    return screen.queryByRole('checkbox', { name: /Hires fix/ });
  };

  it('is offered on text-to-image by a model that runs it, and nowhere else', () => {
    expect(fields('t2i', preview)).not.toBeNull();
    expect(fields('i2i', preview)).toBeNull();
    expect(fields('t2i', { ...preview, capabilities: { controlnet: [], guidanceImages: 0, hiresFix: false } })).toBeNull();
  });
});

