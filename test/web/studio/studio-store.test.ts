// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { INITIAL_FORM } from '../../../web/src/features/generate/form-state';
import { bindStudioUser, dispatchForm, resetStudio, selectRun, useStudio } from '../../../web/src/features/studio/studio-store';

afterEach(() => {
  resetStudio();
  sessionStorage.clear();
});

const flush = () => dispatchEvent(new Event('pagehide'));

describe('the studio store', () => {
  it('keeps each user’s studio apart in sessionStorage and brings it back', () => {
    bindStudioUser('alice');
    dispatchForm({ type: 'set', patch: { prompt: "alice's idea", steps: 12 } });
    selectRun('run-a');
    flush();
    bindStudioUser('bob');
    expect(useStudio.getState().form).toEqual(INITIAL_FORM);
    expect(useStudio.getState().selected).toBeUndefined();
    dispatchForm({ type: 'set', patch: { prompt: "bob's idea" } });
    bindStudioUser('alice');
    expect(useStudio.getState().form).toMatchObject({ prompt: "alice's idea", steps: 12 });
    expect(useStudio.getState().selected).toBe('run-a');
    bindStudioUser('bob');
    expect(useStudio.getState().form.prompt).toBe("bob's idea");
  });

  it('stores no blob: previews, and an upload cut by a reload as one to pick again', () => {
    bindStudioUser('carol');
    useStudio.setState((state) => ({
      form: {
        ...state.form,
        reference: { key: 'r', name: 'harbour.png', status: 'ready', progress: 1, ref: { upload_id: 'u1' }, previewUrl: 'blob:http://x/1' },
        guidance: [
          { key: 'g1', name: 'one.png', status: 'uploading', progress: 0.3, previewUrl: 'data:image/webp;base64,AA' },
        ],
      },
    }));
    flush();
    const stored = JSON.parse(sessionStorage.getItem('atelier.studio:carol')!).state.form;
    expect(stored.reference).toEqual({ key: 'r', name: 'harbour.png', status: 'ready', progress: 1, ref: { upload_id: 'u1' } });
    expect(stored.guidance[0]).toMatchObject({ status: 'error', previewUrl: 'data:image/webp;base64,AA', error: 'The upload was interrupted by a reload: pick the file again' });
  });

  it('writes nothing before a user is bound', () => {
    dispatchForm({ type: 'set', patch: { prompt: 'nobody' } });
    flush();
    expect(sessionStorage.length).toBe(0);
  });
});
