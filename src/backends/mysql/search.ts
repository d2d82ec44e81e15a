/**
 * How the mysql backend makes InnoDB FULLTEXT match the store's word rule (`searchTerms`). InnoDB
 * tokenizes by its own character tables, skips words shorter than `innodb_ft_min_token_size` (3) or
 * longer than `innodb_ft_max_token_size` (84), drops stopwords ("the", "about", …) and treats
 * characters beyond the BMP as separators. None of that can be changed without a server restart, so
 * the backend never lets InnoDB see a word as written: every term of `searchTerms(content)` becomes
 * one token that InnoDB keeps whole, and a query looks for the same tokens.
 *
 * - a term of ASCII letters and digits: the term and `_` (`hello_`); the `_` makes every token a
 *   non-stopword, and more `_` pad short ones (`a__`) to the minimum token size;
 * - any other term: `_` and the hex of its UTF-8 (`привет` → `_d0bfd180d0b8d0b2d0b5d182`);
 * - a token longer than the maximum token size: `_x` and a SHA-256 prefix of the term.
 *
 * The three forms never collide (`_` never appears in a term; hex has no `x`), tokens are ASCII, and
 * InnoDB treats `_` as a word character, so each term is exactly one indexed token.
 *
 * The search operation itself is in `search-query.ts`.
 */
import { createHash } from 'node:crypto';
import { searchTerms } from '../../text.js';

/** The token sizes of the server when the schema was created; stored with the schema. */
export interface TokenLimits {
  min: number;
  max: number;
}

const PLAIN_TERM = /^[a-z0-9]+$/;
/** Tokens are separated by two spaces, so that every occurrence of ` token ` is counted (see `termFrequency`). */
const SEPARATOR = '  ';

/**
 * The one indexed token of a search term.
 */
export function searchToken(term: string, limits: TokenLimits): string {
  let token = PLAIN_TERM.test(term) ? `${term}_` : `_${Buffer.from(term, 'utf8').toString('hex')}`;
  if (token.length > limits.max) {
    token = `_x${createHash('sha256')
      .update(term)
      .digest('hex')
      .slice(0, Math.max(1, limits.max - 2))}`;
  }
  return token.length < limits.min ? token.padEnd(limits.min, '_') : token;
}

/** What a message's `search_text` and `term_count` columns hold. */
export interface SearchDocument {
  text: string;
  termCount: number;
}

/**
 * The indexed text of a message's content, and its number of terms (BM25's document length).
 */
export function searchDocument(content: string, limits: TokenLimits): SearchDocument {
  const terms = searchTerms(content);
  return { text: terms.map((term) => searchToken(term, limits)).join(SEPARATOR), termCount: terms.length };
}

/**
 * A boolean-mode query in which every term is required.
 */
export function booleanQuery(terms: readonly string[], limits: TokenLimits): string {
  return terms.map((term) => `+${searchToken(term, limits)}`).join(' ');
}

/**
 * The needle whose occurrences in `CONCAT(' ', search_text, ' ')` are the term's frequency.
 */
export function frequencyNeedle(term: string, limits: TokenLimits): string {
  return ` ${searchToken(term, limits)} `;
}
