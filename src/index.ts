/**
 * chatstore: a conversation store for messaging bots and AI assistants. This entry point imports no
 * backend; pick one with `openStore(url)` from `chatstore/open` or import it from its own subpath.
 */

export type { ChatStoreApi } from './api.js';
export type * from './backend.js';
export type { CommandOptions } from './commands.js';
export type { ChatStoreErrorOptions, ErrorCode } from './errors.js';
export { ChatStoreError, ERROR_CODES, HTTP_STATUS, isChatStoreError, redact } from './errors.js';
export type { Limits } from './limits.js';
export { DEFAULT_LIMITS } from './limits.js';
export { applyMergePatch } from './merge-patch.js';
export * from './model.js';
export type { AppendPlan, StoredMatches } from './plan.js';
export { planAppend, writesNothing } from './plan.js';
export { nextStatus } from './status.js';
export type * from './store/options.js';
export { ChatStore } from './store.js';
export { searchTerms } from './text.js';
export type { TokenCounter } from './tokens.js';
export { approximateTokens } from './tokens.js';
