import { AtelierError } from '../errors/atelier-error.js';

/** Finds blocklisted words and phrases in prompt text. */
export interface PromptBlocklist {
  /** The configured entry `text` contains, or undefined. */
  find(text: string): string | undefined;
}

/**
 * Compiles a blocklist of words and phrases. Entries and prompts are normalised alike:
 * Unicode compatibility forms folded (fullwidth `ｂａｄ` → `bad`), accents dropped (`bàd`),
 * lower-cased, and split into words at anything that is not a letter or digit (spaces,
 * punctuation, `_`, `-`). Then:
 *
 * - a one-word entry matches whole words only: `ass` does not match `class` or `asses`
 *   (list inflections you want blocked);
 * - a phrase matches its words in order with any separators between them (`bad word` matches
 *   `Bad  word`, `bad-word`, `BAD_WORD`) and also written as one word (`badword`);
 * - a run of single letters is read as one word, so letter-spaced evasions of entries of three
 *   or more letters match (`b a d`, `B.A.D`, `b-a-d`, `b a d w o r d`).
 *
 * Not caught: leetspeak (`b4d`), repeated letters (`baaad`), partial spacing (`ba d`), a
 * letter-spaced word run into its neighbours (`a b a d` reads as `abad`). That is what the
 * pluggable external check is for.
 *
 * @example
 * createPromptBlocklist(['bad word']).find('a Bad-Word here') // → 'bad word'
 * @throws AtelierError config_invalid for an entry with no letters or digits.
 */
export function createPromptBlocklist(entries: readonly string[]): PromptBlocklist {
  /** Whole-word targets: one-word entries and phrases written as one word, → entry. */
  const words = new Map<string, string>();
  /** Phrases by their first word. */
  const phrases = new Map<string, { words: readonly string[]; entry: string }[]>();
  for (const entry of entries) {
    const tokens = tokenize(entry);
    if (tokens.length === 0) {
      throw new AtelierError('config_invalid', `Expected words or phrases in moderation.blocklist but received '${entry}'`, { field: 'moderation.blocklist' });
    }
    words.set(tokens.join(''), entry);
    if (tokens.length > 1) {
      const list = phrases.get(tokens[0]!) ?? [];
      list.push({ words: tokens, entry });
      phrases.set(tokens[0]!, list);
    }
  }

  return {
    find(text) {
      const tokens = tokenize(text);
      for (let i = 0; i < tokens.length; i++) {
        const hit = words.get(tokens[i]!) ?? phraseAt(tokens, i);
        if (hit) return hit;
      }
      for (const run of letterRuns(tokens)) {
        const hit = words.get(run);
        if (hit) return hit;
      }
      return undefined;
    },
  };

  function phraseAt(tokens: readonly string[], i: number): string | undefined {
    for (const phrase of phrases.get(tokens[i]!) ?? []) {
      if (phrase.words.every((word, j) => tokens[i + j] === word)) return phrase.entry;
    }
    return undefined;
  }
}

function tokenize(text: string): string[] {
  // NFKD splits accented letters into letter + mark and folds compatibility forms.
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Maximal runs of three or more one-character words, each joined into one word. */
function* letterRuns(tokens: readonly string[]): Generator<string> {
  let run = '';
  let length = 0;
  for (const token of [...tokens, '']) {
    // Count code points, not UTF-16 units, so astral letters count as one.
    if ([...token].length === 1) {
      run += token;
      length++;
      continue;
    }
    if (length >= 3) yield run;
    run = '';
    length = 0;
  }
}
