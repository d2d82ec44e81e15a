/** What every part of `ChatStore` works with: the engine, the validator and the store's options, resolved once. */
import type { Backend } from '../backend.js';
import type { CommandDetector } from '../commands.js';
import type { Limits } from '../limits.js';
import type { TokenCounter } from '../tokens.js';
import type { Validator } from '../validate.js';

export interface StoreCore {
  readonly backend: Backend;
  readonly validate: Validator;
  readonly limits: Limits;
  readonly detectCommand: CommandDetector;
  readonly countTokens: TokenCounter;
  readonly newId: () => string;
  /** The store's clock as ISO-8601 UTC with milliseconds. */
  readonly timestamp: () => string;
}

/** `from` / `to` of a read or export, validated; absent ones left out. */
export function timeRange(core: StoreCore, from: unknown, to: unknown): { from?: string; to?: string } {
  return {
    ...(from === undefined ? {} : { from: core.validate.time(from, 'from') }),
    ...(to === undefined ? {} : { to: core.validate.time(to, 'to') }),
  };
}
