/**
 * The tiers in front of an engine (docs/tiers.md): `tailCache`, the in-process tier (L1), a
 * `Backend` wrapping a `Backend`; `tail-cache.ts` holds it, `tails.ts` what a tail answers, `url.ts`
 * its store-URL parameters.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { sqliteBackend } from 'chatstore/sqlite';
 * import { tailCache } from 'chatstore/tiers';
 * const store = new ChatStore(await tailCache(await sqliteBackend({ path: './data/chat.db' })));
 */

export type { SharedTailChange, SharedTailRead, SharedTailStore } from './shared-tail-store.js';
export { type SharedTailsOptions, sharedTails } from './shared-tails.js';
export {
  DEFAULT_MAX_ACTIVE_CONVERSATIONS,
  DEFAULT_MAX_MESSAGES_PER_CONVERSATION,
  type TailCacheOptions,
  type TailCoherence,
  tailCache,
} from './tail-cache.js';
export type { Tail } from './tails.js';
