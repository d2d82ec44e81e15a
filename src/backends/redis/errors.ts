/** How errors of ioredis and Redis become chatstore errors. */
import { ChatStoreError, redact } from '../../errors.js';

/** Replies of Redis (and errors of ioredis) that mean the server cannot serve now. */
const UNAVAILABLE_REPLY =
  /^(CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN|MISCONF|BUSY|NOREPLICAS|OOM)\b|Too many Cluster redirections|Connection is closed|Stream isn't writeable|Command timed out|None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready|connect ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE/;
const UNAVAILABLE_ERRORS = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/**
 * The one place where errors of ioredis and Redis become chatstore errors: a server that cannot
 * serve now is `UNAVAILABLE` (invariant 7 in docs/ARCHITECTURE.md), the original in `cause`, URLs redacted. ChatStoreErrors
 * and anything else (a bug) pass through unchanged.
 */
export function toChatStoreError(error: unknown): unknown {
  if (error instanceof ChatStoreError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const unavailable =
    UNAVAILABLE_ERRORS.has(error.name) ||
    UNAVAILABLE_ERRORS.has(error.constructor.name) ||
    UNAVAILABLE_REPLY.test(error.message) ||
    (typeof code === 'string' && /^E[A-Z]+$/.test(code));
  return unavailable ? new ChatStoreError('UNAVAILABLE', `redis: ${redact(error.message)}`, { cause: error }) : error;
}
