import { describe, expect, it } from 'vitest';
import { actionFor, decide, policyForModel, refusalMessage } from '../../../src/media/safety/safety-policy.js';
import type { SafetyScores } from '../../../src/media/safety/safety-classifier.js';

const scores = (porn: number, hentai: number): SafetyScores => ({ drawing: 0, hentai, neutral: 1 - porn - hentai, porn, sexy: 0 });

describe('decide', () => {
  it('flags when porn + hentai reaches the threshold, not below it', () => {
    expect(decide({ model: 'm', scores: scores(0.5, 0.2) }, 0.7).flagged).toBe(true);
    expect(decide({ model: 'm', scores: scores(0.5, 0.19) }, 0.7).flagged).toBe(false);
  });

  it('flags everything at threshold 0, even a picture scoring 0', () => {
    expect(decide({ model: 'm', scores: scores(0, 0) }, 0).flagged).toBe(true);
  });

  it("takes an external checker's own verdict when it flags", () => {
    expect(decide({ model: 'external:x', scores: scores(0, 0), flagged: true }, 0.7).flagged).toBe(true);
    expect(decide({ model: 'external:x', scores: scores(0.9, 0), flagged: false }, 0.7).flagged).toBe(true);
  });

  it('keeps the model and scores as given', () => {
    expect(decide({ model: 'm', scores: scores(0.1, 0.1) }, 0.7)).toEqual({ model: 'm', scores: scores(0.1, 0.1), flagged: false });
  });
});

describe('actionFor', () => {
  it('keeps whatever is not flagged, under every policy', () => {
    for (const policy of ['flag', 'blur', 'block'] as const) expect(actionFor(policy, { flagged: false })).toBe('keep');
  });

  it('keeps a flagged output under flag, blurs it under blur, refuses it under block', () => {
    expect(actionFor('flag', { flagged: true })).toBe('keep');
    expect(actionFor('blur', { flagged: true })).toBe('blur');
    expect(actionFor('block', { flagged: true })).toBe('refuse');
  });
});

describe('policyForModel', () => {
  const server = { policy: 'flag', threshold: 0.7 } as const;

  it("is the server's policy without an override", () => {
    expect(policyForModel(server, undefined)).toEqual(server);
  });

  it('overrides either field alone, or both', () => {
    expect(policyForModel(server, { policy: 'block' })).toEqual({ policy: 'block', threshold: 0.7 });
    expect(policyForModel(server, { threshold: 0 })).toEqual({ policy: 'flag', threshold: 0 });
    expect(policyForModel(server, { policy: 'off', threshold: 0.2 })).toEqual({ policy: 'off', threshold: 0.2 });
  });
});

describe('refusalMessage', () => {
  it('names the output, the model, the explicit score and the threshold', () => {
    expect(refusalMessage(2, decide({ model: 'nsfwjs-mobilenet-v2', scores: scores(0.6, 0.25) }, 0.7), 0.7)).toBe(
      "Output 2 was refused by this server's safety policy: nsfwjs-mobilenet-v2 flagged it (porn + hentai 0.85, threshold 0.7)",
    );
  });
});
