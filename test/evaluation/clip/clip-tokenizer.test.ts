import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIP_CONTEXT_LENGTH, createClipTokenizer, loadClipTokenizer } from '../../../src/evaluation/clip/clip-tokenizer.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { tinyId, tinyTokenizerJson } from '../../helpers/tiny-clip-tokenizer.js';

const json = tinyTokenizerJson();
const id = (piece: string) => tinyId(json, piece);
const SOT = id('<|startoftext|>');
const EOT = id('<|endoftext|>');
/** The ids between the start token and the first end token. */
const body = (ids: readonly number[], end = EOT) => ids.slice(1, ids.indexOf(end));

describe('CLIP tokenizer', () => {
  it('wraps merged words in start and end tokens and pads to 77', () => {
    const { ids, attentionMask } = createClipTokenizer(json).encode('the red cat');
    expect(ids).toHaveLength(CLIP_CONTEXT_LENGTH);
    expect(ids.slice(0, 5)).toEqual([SOT, id('the</w>'), id('red</w>'), id('cat</w>'), EOT]);
    expect(ids.slice(5).every((i) => i === EOT)).toBe(true); // Hugging Face pads CLIP with <|endoftext|>
    expect(attentionMask.slice(0, 6)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(attentionMask.reduce((s, m) => s + m, 0)).toBe(5);
  });

  it('lower-cases, collapses whitespace and splits punctuation and digits', () => {
    const { ids } = createClipTokenizer(json).encode('  The\n\tGREEN   cat!! 42 ');
    expect(body(ids)).toEqual([id('the</w>'), id('green</w>'), id('cat</w>'), id('!'), id('!</w>'), id('4</w>'), id('2</w>')]);
  });

  it("splits English contractions like CLIP ('s, 't, 'll)", () => {
    const { ids } = createClipTokenizer(json).encode("cat's");
    expect(body(ids)).toEqual([id('cat</w>'), id("'"), id('s</w>')]);
  });

  it('leaves unmerged letters as byte characters', () => {
    const { ids } = createClipTokenizer(json).encode('dog');
    expect(body(ids)).toEqual([id('d'), id('o'), id('g</w>')]);
  });

  it('maps UTF-8 bytes through the byte-to-unicode table', () => {
    // 'í' is C3 AD: 0xC3 is printable ('Ã'), 0xAD (soft hyphen) is not and maps to 'Ń'.
    const { ids } = createClipTokenizer(json).encode('í');
    expect(body(ids)).toEqual([id('Ã'), id('Ń</w>')]);
  });

  it('applies merges by rank, not by position', () => {
    const first = tinyTokenizerJson(['a b', 'b c</w>']);
    const second = tinyTokenizerJson(['b c</w>', 'a b']);
    const end = tinyId(first, '<|endoftext|>');
    expect(body(createClipTokenizer(first).encode('abc').ids, end)).toEqual([tinyId(first, 'ab'), tinyId(first, 'c</w>')]);
    expect(body(createClipTokenizer(second).encode('abc').ids, end)).toEqual([tinyId(second, 'a'), tinyId(second, 'bc</w>')]);
  });

  it('merges every occurrence of the best pair', () => {
    const repeated = tinyTokenizerJson(['a a', 'aa aa']);
    const end = tinyId(repeated, '<|endoftext|>');
    expect(body(createClipTokenizer(repeated).encode('aaaab').ids, end)).toEqual([tinyId(repeated, 'aaaa'), tinyId(repeated, 'b</w>')]);
  });

  it('accepts merges as pairs (newer tokenizer.json) and a pad id', () => {
    const pairs = { ...json, model: { ...json.model!, merges: json.model!.merges.map((m) => (m as string).split(' ') as [string, string]) }, padding: { pad_id: 0 } };
    const { ids } = createClipTokenizer(pairs).encode('blue');
    expect(ids.slice(0, 4)).toEqual([SOT, id('blue</w>'), EOT, 0]);
  });

  it('truncates long prompts so the last id is still <|endoftext|>', () => {
    const { ids, attentionMask } = createClipTokenizer(json).encode('red '.repeat(100));
    expect(ids).toHaveLength(CLIP_CONTEXT_LENGTH);
    expect([ids[0], ids[1], ids[75], ids[76]]).toEqual([SOT, id('red</w>'), id('red</w>'), EOT]);
    expect(attentionMask.every((m) => m === 1)).toBe(true);
  });

  it('encodes an empty prompt as start and end only', () => {
    expect(createClipTokenizer(json).encode('   ').ids.slice(0, 3)).toEqual([SOT, EOT, EOT]);
  });

  it('refuses a vocabulary without the special tokens', () => {
    const broken = { model: { vocab: { a: 0 }, merges: [] } };
    expect(() => createClipTokenizer(broken)).toThrow("Expected '<|startoftext|>' in the tokenizer vocabulary but it is missing");
    expect(() => createClipTokenizer({ model: { type: 'WordPiece', vocab: {}, merges: [] } })).toThrow("Expected a BPE tokenizer but received model.type 'WordPiece'");
  });

  it('loads a tokenizer.json file and names a missing one', async () => {
    const tmp = await makeTempDir();
    try {
      const path = join(tmp.dir, 'tokenizer.json');
      await writeFile(path, JSON.stringify(json));
      expect(body((await loadClipTokenizer(path)).encode('the cat').ids)).toEqual([id('the</w>'), id('cat</w>')]);
      await expect(loadClipTokenizer(join(tmp.dir, 'missing.json'))).rejects.toThrow(/Expected a readable tokenizer.json at '.*missing.json'/);
    } finally {
      await tmp.remove();
    }
  });
});
