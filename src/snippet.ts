import { searchTerms } from './text.js';

const SNIPPET_WORDS = 16;
// A word as a reader sees it: letters and digits with their combining marks.
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` as HTML text or attribute value: `&`, `<`, `>`, `"` and `'` escaped. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string);
}

/**
 * The passage of `content` to show for a search hit: up to 16 words around the first match, every
 * matching word wrapped in `<mark>`…`</mark>`, `…` where text was cut. Built by the store from the
 * stored content, so every engine returns the same snippet. The snippet is safe HTML: the text is
 * escaped (`&`, `<`, `>`, `"`, `'`), so the `<mark>` tags are its only markup, whatever the sender wrote.
 */
export function searchSnippet(content: string, queryTerms: readonly string[]): string {
  const words = [...content.matchAll(WORD)];
  if (words.length === 0) return escapeHtml(content);
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
    text += escapeHtml(content.slice(cursor, index));
    text += isMatch(word[0]) ? `<mark>${escapeHtml(word[0])}</mark>` : escapeHtml(word[0]);
    cursor = index + word[0].length;
  }
  text += escapeHtml(content.slice(cursor, to));
  return `${start > 0 ? '…' : ''}${text}${end < words.length ? '…' : ''}`;
}
