/**
 * Size limits enforced at the store boundary (docs/api.md); beyond them a call fails with
 * `INVALID_ARGUMENT` and stores nothing.
 * @example new ChatStore(backend, { limits: { maxContentBytes: 16 * 1024 } })
 */
import { ChatStoreError } from './errors.js';

export interface Limits {
  /** Longest id of any kind (message, conversation, external, participant), in characters. */
  maxIdLength: number;
  /** Largest `content`, in UTF-8 bytes. */
  maxContentBytes: number;
  /** Largest `metadata` + `parts` + `media`, serialized as JSON, in UTF-8 bytes. */
  maxStructuredBytes: number;
  /**
   * Deepest nesting of a message's `metadata`, of each of its `parts` and of a conversation's
   * `metadata`: the most keys and indexes on a path from the top of the value to anything in it
   * (`{ a: { b: [1] } }` is 3 deep). At most `MAX_JSON_DEPTH` (28).
   */
  maxJsonDepth: number;
  /** Most messages in one `append` call. */
  maxBatchSize: number;
  /** Largest page any read returns. */
  maxPageSize: number;
}

/**
 * The deepest `maxJsonDepth` a store accepts: the deepest every engine holds. MariaDB refuses JSON
 * nested more than 31 arrays or objects, and the mysql engine stores a message as one JSON body, in
 * which a part sits two containers down (the body, the `parts` array): 28 levels of keys or indexes
 * are 29 containers at most, 31 with those two.
 */
export const MAX_JSON_DEPTH = 28;

/** @example DEFAULT_LIMITS.maxContentBytes === 65536 */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxIdLength: 255,
  maxContentBytes: 64 * 1024,
  maxStructuredBytes: 256 * 1024,
  maxJsonDepth: 20,
  maxBatchSize: 1000,
  maxPageSize: 1000,
};

/**
 * The defaults with the store's own limits over them; `INVALID_ARGUMENT` for a `maxJsonDepth` no
 * engine can be trusted with.
 * @example const limits = resolveLimits({ maxJsonDepth: 10 });
 */
export function resolveLimits(limits: Partial<Limits> | undefined): Limits {
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  const depth = resolved.maxJsonDepth;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1 || depth > MAX_JSON_DEPTH) {
    throw new ChatStoreError('INVALID_ARGUMENT', `limits.maxJsonDepth must be an integer from 1 to ${MAX_JSON_DEPTH}`, {
      path: 'limits.maxJsonDepth',
    });
  }
  return resolved;
}
