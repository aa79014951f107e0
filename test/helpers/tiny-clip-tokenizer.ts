/**
 * A hand-made CLIP-style tokenizer.json, laid out like the real one (ids 0–255 the byte
 * characters, 256–511 the same with `</w>`, then one id per merge, then the two special
 * tokens) but with a handful of merges, so tests know every id.
 */
import type { TokenizerJson } from '../../src/evaluation/clip/clip-tokenizer.js';

/** GPT-2's byte → character map, written out independently of the code under test. */
export function byteChar(b: number): string {
  const printable: number[] = [];
  for (let i = 0x21; i <= 0x7e; i += 1) printable.push(i);
  for (let i = 0xa1; i <= 0xac; i += 1) printable.push(i);
  for (let i = 0xae; i <= 0xff; i += 1) printable.push(i);
  if (printable.includes(b)) return String.fromCodePoint(b);
  let n = 0;
  for (let i = 0; i < b; i += 1) if (!printable.includes(i)) n += 1;
  return String.fromCodePoint(256 + n);
}

export const TINY_MERGES = [
  'g r', 'e e', 'gr ee', 'gree n</w>', // green (before 'r e', which would split it otherwise)
  'r e', 're d</w>', // red
  'b l', 'bl u', 'blu e</w>', // blue
  'c a', 'ca t</w>', // cat
  't h', 'th e</w>', // the
];

/** The tokenizer.json; `merges` replaces the default merge list (each result gets an id). */
export function tinyTokenizerJson(merges: readonly string[] = TINY_MERGES, extra: Partial<TokenizerJson> = {}): TokenizerJson {
  const pieces: string[] = [];
  for (let b = 0; b < 256; b += 1) pieces.push(byteChar(b));
  for (let b = 0; b < 256; b += 1) pieces.push(`${byteChar(b)}</w>`);
  for (const merge of merges) pieces.push(merge.replace(' ', ''));
  pieces.push('<|startoftext|>', '<|endoftext|>');
  const vocab = Object.fromEntries(pieces.map((p, i) => [p, i]));
  return { model: { type: 'BPE', vocab, merges, end_of_word_suffix: '</w>' }, ...extra };
}

/** The id of a piece in {@link tinyTokenizerJson}'s vocabulary. */
export function tinyId(json: TokenizerJson, piece: string): number {
  const id = json.model?.vocab[piece];
  if (id === undefined) throw new Error(`No piece '${piece}' in the tiny vocabulary`);
  return id;
}
