/**
 * Text rules shared by validation and the engines: what a storable string is, how long it is in
 * bytes, how strings are ordered, how text splits into search terms, and the text of structured
 * content.
 */

/**
 * True when every engine stores `text` byte for byte: no NUL (PostgreSQL rejects it) and no lone
 * UTF-16 surrogate (not encodable as UTF-8).
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/** UTF-8 length of a well-formed string, without allocating. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Compares two well-formed strings in the order of their UTF-8 bytes, the order every engine keeps
 * (SQLite `BINARY`, PostgreSQL `"C"`, MySQL `_bin` collations, Redis lexicographic ranges); it is
 * also code-point order. JavaScript's `<` compares UTF-16 code units instead, which puts a character
 * above U+FFFF (a surrogate pair, 0xD800–0xDFFF) before U+E000–U+FFFF: at the first differing code
 * unit, surrogates are ranked above U+E000–U+FFFF, every other unit keeps its value.
 * @example ['\uFFFD', '😀', '\uE000'].sort(compareUtf8) // ['\uE000', '\uFFFD', '😀']
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 code unit's rank in code-point order: surrogates after U+E000–U+FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII, controls included
const ASCII = /^[\x00-\x7f]*$/;
const NOT_ASCII_WORD = /[^a-z0-9]+/;

/**
 * The search terms of a text: lower-cased, accents removed, split on anything that is not a letter or
 * a digit. The same rule as SQLite FTS5's `unicode61 remove_diacritics 2` tokenizer.
 * @example searchTerms('Café, RÉSUMÉ!') // ['cafe', 'resume']
 */
export function searchTerms(text: string): string[] {
  // ASCII has no marks and nothing NFKD changes, and its letters and digits are [a-z0-9] once
  // lower-cased: the same terms, without normalizing (most messages of most bots are ASCII).
  if (ASCII.test(text))
    return text
      .toLowerCase()
      .split(NOT_ASCII_WORD)
      .filter((term) => term !== '');
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((term) => term !== '');
}

/**
 * The text of structured content (LangChain's content blocks, the AI SDK's and Mastra's parts): its
 * `{ type: 'text', text }` blocks joined, the others left out.
 * @example textOfParts([{ type: 'text', text: 'Sí, ' }, { type: 'image_url' }, { type: 'text', text: 'hay' }]) // 'Sí, hay'
 */
export function textOfParts(parts: readonly unknown[]): string {
  let text = '';
  for (const part of parts) {
    const block = part as { type?: unknown; text?: unknown } | null;
    if (block?.type === 'text' && typeof block.text === 'string') text += block.text;
  }
  return text;
}
