/**
 * What the SQL backends (postgres, mysql) share about building statements: the optional clauses a
 * read needs (its shape; one prepared statement per shape) and the list of named parameters a
 * statement takes, in the engine's placeholder style.
 */
import type { RangeQuery } from '../../backend.js';

/** Which optional clauses a range read needs. */
export interface RangeShape {
  order: 'asc' | 'desc';
  includeDeleted: boolean;
  from: boolean;
  to: boolean;
}

/** Which optional clauses a search needs. */
export interface SearchShape {
  conversation: boolean;
  sender: boolean;
  from: boolean;
  to: boolean;
  after: boolean;
}

/** Which optional clauses a conversation listing needs. */
export interface ConversationListShape {
  participant: boolean;
  type: boolean;
  channel: boolean;
  after: boolean;
  includeDeleted: boolean;
}

/** A statement built for one shape, with the names of its parameters in order. */
export interface ShapedSql {
  text: string;
  params: string[];
}

/** The shape of a range query. */
export function rangeShape(range: RangeQuery): RangeShape {
  return {
    order: range.order,
    includeDeleted: range.includeDeleted,
    from: range.from !== undefined,
    to: range.to !== undefined,
  };
}

/**
 * Collects a statement's parameter names as it is built; `param(name)` returns the placeholder:
 * `$1, $2, …` (postgres) or `?` (mysql).
 */
export function paramList(style: '$n' | '?'): { params: string[]; param: (name: string) => string } {
  const params: string[] = [];
  return {
    params,
    param: (name) => {
      params.push(name);
      return style === '?' ? '?' : `$${params.length}`;
    },
  };
}
