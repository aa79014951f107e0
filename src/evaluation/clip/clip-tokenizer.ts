import { readFile } from 'node:fs/promises';

/** CLIP's text context: every prompt becomes exactly this many ids. */
export const CLIP_CONTEXT_LENGTH = 77;
const START = '<|startoftext|>';
const END = '<|endoftext|>';

/** Token ids for one prompt, padded or truncated to the context length. */
export interface ClipTokens {
  /** `<|startoftext|>`, the prompt's BPE ids, `<|endoftext|>`, then the pad id. */
  readonly ids: readonly number[];
  /** 1 for real tokens (start and end included), 0 for padding. */
  readonly attentionMask: readonly number[];
}

export interface ClipTokenizer {
  encode(text: string): ClipTokens;
}

/** The subset of a Hugging Face `tokenizer.json` read here (a bare `{vocab, merges}` also works). */
export interface TokenizerJson {
  readonly model?: BpeModelJson;
  readonly vocab?: Record<string, number>;
  readonly merges?: readonly (string | readonly [string, string])[];
  readonly added_tokens?: readonly { readonly id: number; readonly content: string }[];
  readonly padding?: { readonly pad_id?: number } | null;
}

interface BpeModelJson {
  readonly type?: string;
  readonly vocab: Record<string, number>;
  readonly merges: readonly (string | readonly [string, string])[];
  readonly end_of_word_suffix?: string | null;
  readonly unk_token?: string | null;
}

/**
 * GPT-2/CLIP's reversible byte → printable character map, so BPE works on any UTF-8 text
 * without an unknown token: printable Latin-1 bytes map to themselves, the rest to U+0100….
 */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
})();

/** CLIP's pre-tokenizer split (OpenAI `simple_tokenizer.py`), applied after lower-casing. */
const SPLIT = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

/**
 * CLIP's byte-level BPE text encoder from a Hugging Face `tokenizer.json` (the file shipped
 * with `openai/clip-vit-*` checkpoints). Text is NFC-normalised, whitespace-collapsed,
 * trimmed and lower-cased (ftfy's mojibake repair and HTML unescaping are not applied), split
 * with CLIP's pattern, byte-mapped, merged by rank and wrapped in start/end tokens. Longer
 * prompts are truncated so the last id is always `<|endoftext|>`. Padding uses
 * `padding.pad_id` when the file sets it, else `<|endoftext|>` (Hugging Face's CLIP pad token).
 *
 * @throws Error when the vocabulary lacks the special tokens or a merge result.
 * @example createClipTokenizer(json).encode('a photo of a cat').ids.slice(0, 7)
 *   // with the real CLIP vocabulary: [49406, 320, 1125, 539, 320, 2368, 49407]
 */
export function createClipTokenizer(json: TokenizerJson, contextLength = CLIP_CONTEXT_LENGTH): ClipTokenizer {
  const model: BpeModelJson | undefined = json.model ?? (json.vocab && json.merges ? { vocab: json.vocab, merges: json.merges } : undefined);
  if (!model || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) throw new Error('Expected a tokenizer.json with model.vocab and model.merges');
  if (model.type !== undefined && model.type !== 'BPE') throw new Error(`Expected a BPE tokenizer but received model.type '${model.type}'`);
  const vocab = new Map<string, number>(Object.entries(model.vocab));
  for (const token of json.added_tokens ?? []) vocab.set(token.content, token.id);
  const idOf = (piece: string): number => {
    const id = vocab.get(piece) ?? (model.unk_token ? vocab.get(model.unk_token) : undefined);
    if (id === undefined) throw new Error(`Expected '${piece}' in the tokenizer vocabulary but it is missing`);
    return id;
  };
  const start = idOf(START);
  const end = idOf(END);
  const pad = json.padding?.pad_id ?? end;
  const suffix = model.end_of_word_suffix ?? '</w>';
  const ranks = new Map<string, number>();
  model.merges.forEach((merge, rank) => {
    const [a, b] = typeof merge === 'string' ? merge.split(' ') : merge;
    // Pieces never contain a space (the byte map turns it into 'Ġ'), so "a b" is a safe key.
    if (a !== undefined && b !== undefined && !ranks.has(`${a} ${b}`)) ranks.set(`${a} ${b}`, rank);
  });
  const cache = new Map<string, number[]>([[START, [start]], [END, [end]]]);

  function bpe(word: string): number[] {
    const cached = cache.get(word);
    if (cached) return cached;
    const chars = Array.from(Buffer.from(word, 'utf8'), (b) => BYTE_TO_CHAR[b]!);
    let parts = [...chars.slice(0, -1), chars[chars.length - 1]! + suffix];
    while (parts.length > 1) {
      // The lowest-ranked adjacent pair is merged everywhere it occurs, left to right.
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < parts.length - 1; i += 1) {
        const rank = ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
      }
      if (best < 0) break;
      const [first, second] = [parts[best]!, parts[best + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i += 1) {
        if (parts[i] === first && parts[i + 1] === second) {
          merged.push(first + second);
          i += 1;
        } else merged.push(parts[i]!);
      }
      parts = merged;
    }
    const ids = parts.map(idOf);
    cache.set(word, ids);
    return ids;
  }

  return {
    encode(text: string): ClipTokens {
      const clean = text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
      const body = (clean.match(SPLIT) ?? []).flatMap(bpe).slice(0, contextLength - 2);
      const ids = [start, ...body, end];
      const attentionMask = ids.map(() => 1);
      while (ids.length < contextLength) {
        ids.push(pad);
        attentionMask.push(0);
      }
      return { ids, attentionMask };
    },
  };
}

/**
 * Reads a tokenizer.json file and builds the tokenizer.
 *
 * @example const tokenizer = await loadClipTokenizer('/models/clip/tokenizer.json')
 */
export async function loadClipTokenizer(path: string, contextLength = CLIP_CONTEXT_LENGTH): Promise<ClipTokenizer> {
  let json: TokenizerJson;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as TokenizerJson;
  } catch (error) {
    throw new Error(`Expected a readable tokenizer.json at '${path}' but ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return createClipTokenizer(json, contextLength);
}
