/**
 * How the engines built on SQLite's FTS5 (`sqlite`, `cloudflare`) index and query words: the terms
 * of `searchTerms`, one token each under FTS5's 'ascii' tokenizer, so that FTS5's `bm25()` is the
 * store's search score (docs/api.md, "Search score") on both.
 */
import { createHash } from 'node:crypto';
import { searchTerms } from '../text.js';

/** FTS5 keeps the first 32,768 bytes of a token (FTS5_MAX_TOKEN_SIZE), so longer words would match on that prefix. */
const MAX_TOKEN_BYTES = 32_768;

/**
 * The token a search term is indexed and looked for as: the term itself, or, when FTS5 would cut
 * it, `§` and the hex SHA-256 of its UTF-8 (`§` is in no term, and the 'ascii' tokenizer keeps
 * non-ASCII bytes in a token, so this is one token that never equals a word).
 */
export function ftsToken(term: string): string {
  return Buffer.byteLength(term) <= MAX_TOKEN_BYTES ? term : `§${createHash('sha256').update(term).digest('hex')}`;
}

/** What a message's content is indexed as: its tokens, space-separated. */
export function ftsTerms(content: string): string {
  return searchTerms(content).map(ftsToken).join(' ');
}

/** A MATCH expression that finds the messages having every term: each quoted, so never an FTS5 operator. */
export function ftsMatch(terms: readonly string[]): string {
  return terms.map((term) => `"${ftsToken(term).replaceAll('"', '""')}"`).join(' ');
}
