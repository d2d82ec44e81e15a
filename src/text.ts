/**
 * Text rules shared by validation and the engines: what a storable string is, how long it is in
 * bytes, and how text splits into search terms.
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
 * The search terms of a text: lower-cased, accents removed, split on anything that is not a letter or
 * a digit. The same rule as SQLite FTS5's `unicode61 remove_diacritics 2` tokenizer.
 * @example searchTerms('Café, RÉSUMÉ!') // ['cafe', 'resume']
 */
export function searchTerms(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((term) => term !== '');
}
