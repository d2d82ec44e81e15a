/**
 * How the postgres backend's full-text index gets its words: the vector and query SQL of a layout's
 * text search configuration, and the values bound to them (the store's own words as tsvector
 * literals for `simple`, the words to parse otherwise).
 */
import { createHash } from 'node:crypto';
import {
  LOW_POSITIONS,
  literal,
  literalSearch,
  MAX_POSITIONS,
  type PgLayout,
  searchFrequencySql,
  vectorLengthSql,
} from './schema.js';

/**
 * How the full-text index gets its words. With the `simple` configuration (the default) the vector
 * is written and the query read as they are (`::tsvector`, `::tsquery`) from the store's own words
 * (`searchTerms`): no parser or dictionary runs, so matching is exactly the store's rule, and
 * writing costs a fraction of `to_tsvector`. Any other configuration (`english`, …) runs the
 * engine's parser and dictionaries on those words, on both sides, so stemming applies.
 *
 * Either way a word longer than a lexeme may be (`MAX_LEXEME_BYTES`) is indexed and looked for as
 * its `searchToken`, so every word of a message is found (docs/api.md, "Search").
 */
export interface PgTextSearch {
  /** True when the store writes vectors and queries itself (the `simple` configuration). */
  literal: boolean;
  /** SQL: the tsvector of a bound value (see `vectorValue`). */
  vector(value: string): string;
  /** SQL: the tsquery of a bound query (see `queryValue`). */
  query(value: string): string;
  /** SQL: the lexemes of a bound value (see `wordsValue`), as text[] in the query's order. */
  lexemes(value: string): string;
  /** SQL: how often a lexeme occurs, from its positions (smallint[]) in a vector. */
  frequency(positions: string): string;
  /** SQL: a vector's length in words (BM25's document length): the frequencies of its lexemes, summed. */
  length(vector: string): string;
  /** The value to bind for a message's words (`searchText` of its content). */
  vectorValue(searchText: string): string;
  /** The message's length in words when the store decides its words (`literal`), else null: the engine counts. */
  wordCount(searchText: string): number | null;
  /** The value to bind for a query's terms (every one must match). */
  queryValue(terms: readonly string[]): string;
  /** The value to bind for a query's terms, one lexeme each (frequencies, document counts). */
  wordsValue(terms: readonly string[]): string | string[];
}

/** How a layout's full-text index gets its words (see `PgTextSearch`). */
export function pgTextSearch(layout: PgLayout): PgTextSearch {
  const config = `${literal(layout.textSearchConfig)}::regconfig`;
  const common = {
    frequency: (positions: string) => searchFrequencySql(layout, positions),
    length: (vector: string) => vectorLengthSql(layout, vector),
    queryValue: (terms: readonly string[]) => terms.map((term) => quotedLexeme(searchToken(term))).join(' & '),
  };
  if (literalSearch(layout)) {
    return {
      literal: true,
      vector: (value) => `${value}::tsvector`,
      query: (value) => `${value}::tsquery`,
      lexemes: (value) => `${value}::text[]`,
      vectorValue: tsvectorLiteral,
      wordCount: (searchText) => (searchText === '' ? 0 : searchText.split(' ').length),
      wordsValue: (terms) => terms.map(searchToken),
      ...common,
    };
  }
  // The parser and dictionaries decide the lexemes and their positions; a lexeme's frequency is its
  // number of positions (at most 256, as PostgreSQL keeps them).
  return {
    literal: false,
    vector: (value) => `to_tsvector(${config}, ${value})`,
    query: (value) => `to_tsquery(${config}, ${value})`,
    lexemes: (value) => `ARRAY(SELECT lexeme FROM unnest(to_tsvector(${config}, ${value})))`,
    vectorValue: (searchText) => searchText.split(' ').map(searchToken).join(' '),
    wordCount: () => null,
    wordsValue: (terms) => terms.map(searchToken).join(' '),
    ...common,
  };
}

/** PostgreSQL's limit on a lexeme, in bytes. */
const MAX_LEXEME_BYTES = 2047;

/**
 * The lexeme a search term is indexed and looked for as: the term itself, or, when it is longer
 * than a lexeme may be, `_x` and the hex SHA-256 of its UTF-8 (66 bytes; `_` is in no term, so
 * this never equals a word).
 * @example searchToken('refund') // 'refund'
 */
export function searchToken(term: string): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: a short term needs no counting.
  if (term.length * 3 <= MAX_LEXEME_BYTES || Buffer.byteLength(term) <= MAX_LEXEME_BYTES) return term;
  return `_x${createHash('sha256').update(term).digest('hex')}`;
}

/** A lexeme quoted for tsvector or tsquery input: one word, never an operator. */
function quotedLexeme(lexeme: string): string {
  // Terms are letters and digits: only a query's own text could hold a quote or a backslash.
  if (!QUOTE_OR_BACKSLASH.test(lexeme)) return `'${lexeme}'`;
  return `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}
const QUOTE_OR_BACKSLASH = /['\\]/;

/**
 * Words separated by spaces as a tsvector literal. The positions of a lexeme say how many times the
 * message has the word (see `positionsOf`), not where: nothing reads positions (no phrase search),
 * and real positions could not count past 256 occurrences or 16,383 words.
 */
export function tsvectorLiteral(words: string): string {
  const counts = new Map<string, number>();
  for (const word of words.split(' ')) {
    if (word === '') continue;
    const lexeme = searchToken(word);
    counts.set(lexeme, (counts.get(lexeme) ?? 0) + 1);
  }
  let vector = '';
  for (const [lexeme, count] of counts)
    vector += `${vector === '' ? '' : ' '}${quotedLexeme(lexeme)}:${positionsOf(count)}`;
  return vector;
}

/**
 * The positions that spell how many times a word occurs: 1…n below 256; from 256 on, 1…254, then
 * 255 + ⌊n / 8192⌋ and 8192 + n mod 8192 (a vector keeps at most 256 positions per lexeme, each
 * from 1 to 16,383). `searchFrequencySql` in `schema.ts` reads them back.
 */
function positionsOf(count: number): string {
  if (count === 1) return '1'; // most words of a message
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  if (count < MAX_POSITIONS) return upTo(count).join(',');
  const high = MAX_POSITIONS - 1 + Math.floor(count / LOW_POSITIONS);
  return [...upTo(MAX_POSITIONS - 2), high, LOW_POSITIONS + (count % LOW_POSITIONS)].join(',');
}
