import { searchTerms } from './text.js';

const SNIPPET_WORDS = 16;
// A word as a reader sees it: letters and digits with their combining marks.
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * The passage of `content` to show for a search hit: up to 16 words around the first match, every
 * matching word wrapped in `<mark>`…`</mark>`, `…` where text was cut. Built by the store from the
 * stored content, so every engine returns the same snippet. Content is not HTML-escaped.
 */
export function searchSnippet(content: string, queryTerms: readonly string[]): string {
  const words = [...content.matchAll(WORD)];
  if (words.length === 0) return content;
  const isMatch = (word: string) => searchTerms(word).some((term) => queryTerms.includes(term));
  const first = Math.max(
    0,
    words.findIndex((word) => isMatch(word[0])),
  );
  const start = Math.max(0, Math.min(first - Math.floor(SNIPPET_WORDS / 4), words.length - SNIPPET_WORDS));
  const end = Math.min(words.length, start + SNIPPET_WORDS);
  const from = start === 0 ? 0 : (words[start]?.index ?? 0);
  const lastWord = words[end - 1];
  const to = end === words.length ? content.length : (lastWord?.index ?? 0) + (lastWord?.[0].length ?? 0);
  let text = '';
  let cursor = from;
  for (const word of words.slice(start, end)) {
    const index = word.index ?? 0;
    text += content.slice(cursor, index);
    text += isMatch(word[0]) ? `<mark>${word[0]}</mark>` : word[0];
    cursor = index + word[0].length;
  }
  text += content.slice(cursor, to);
  return `${start > 0 ? '…' : ''}${text}${end < words.length ? '…' : ''}`;
}
