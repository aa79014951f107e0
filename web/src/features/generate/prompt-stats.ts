/** "12 characters · 3 words" — counted as a person reads them (code points, whitespace-separated words). */
export function promptStats(text: string): { characters: number; words: number; label: string } {
  const characters = [...text].length;
  const trimmed = text.trim();
  const words = trimmed === '' ? 0 : trimmed.split(/\s+/u).length;
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  return { characters, words, label: `${plural(characters, 'character')} · ${plural(words, 'word')}` };
}
