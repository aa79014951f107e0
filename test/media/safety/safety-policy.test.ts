import { describe, expect, it } from 'vitest';
import { actionFor, decide, policyForModel, refusalMessage, servableUnder } from '../../../src/media/safety/safety-policy.js';
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

describe('servableUnder (a prompt-cache hit under the policy in force now)', () => {
  const record = (porn: number, extra: { flagged?: boolean; blurred?: true; model?: string } = {}) => ({ model: extra.model ?? 'nsfwjs-mobilenet-v2', scores: scores(porn, 0), flagged: extra.flagged ?? false, ...(extra.blurred ? { blurred: extra.blurred } : {}) });

  it('judges flagged with the threshold of now, from the stored scores', () => {
    // Stored as clean under a laxer threshold; today's 0.5 flags it.
    expect(servableUnder({ policy: 'block', threshold: 0.5 }, record(0.6))).toBe(false);
    expect(servableUnder({ policy: 'block', threshold: 0.7 }, record(0.6))).toBe(true);
    // Stored as flagged under a stricter one; today's 0.7 does not flag it.
    expect(servableUnder({ policy: 'block', threshold: 0.7 }, record(0.6, { flagged: true }))).toBe(true);
    // An external checker's own verdict cannot be recomputed: it stands.
    expect(servableUnder({ policy: 'block', threshold: 0.7 }, record(0, { flagged: true, model: 'external:checker' }))).toBe(false);
  });

  it('serves only what a fresh run would deliver: blurred copies exactly when blur flags it', () => {
    expect(servableUnder({ policy: 'blur', threshold: 0 }, record(0))).toBe(false);
    expect(servableUnder({ policy: 'blur', threshold: 0 }, record(0, { flagged: true, blurred: true }))).toBe(true);
    expect(servableUnder({ policy: 'flag', threshold: 0 }, record(0, { flagged: true }))).toBe(true);
    expect(servableUnder({ policy: 'flag', threshold: 0 }, record(0, { flagged: true, blurred: true }))).toBe(false);
    expect(servableUnder({ policy: 'off', threshold: 0.7 }, record(0, { flagged: true, blurred: true }))).toBe(false);
  });

  it('an output never scanned is served only while the policy is off', () => {
    expect(servableUnder({ policy: 'off', threshold: 0.7 }, undefined)).toBe(true);
    for (const policy of ['flag', 'blur', 'block'] as const) expect(servableUnder({ policy, threshold: 0.7 }, undefined)).toBe(false);
  });
});
