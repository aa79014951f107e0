// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { setPendingDraft, takePendingDraft } from '../../../web/src/features/generate/draft';

describe('pending draft', () => {
  beforeEach(() => sessionStorage.clear());

  it('is taken exactly once', () => {
    setPendingDraft({ mode: 'i2i', params: { prompt: 'a fox', steps: 20 }, reference: { assetId: 'ast_1', url: '/media/x?sig=1' } });
    expect(takePendingDraft()).toEqual({ mode: 'i2i', params: { prompt: 'a fox', steps: 20 }, reference: { assetId: 'ast_1', url: '/media/x?sig=1' } });
    expect(takePendingDraft()).toBeUndefined();
  });

  it('ignores what it cannot read', () => {
    sessionStorage.setItem('atelier.pending-draft', '{"mode":"nope"}');
    expect(takePendingDraft()).toBeUndefined();
    sessionStorage.setItem('atelier.pending-draft', 'not json');
    expect(takePendingDraft()).toBeUndefined();
  });
});
