/**
 * The one place where errors of `pg` and of the server become chatstore errors (errors in docs/api.md): an
 * engine that cannot serve now is `UNAVAILABLE` with the driver's error as `cause`; URLs in
 * messages are redacted. ChatStoreErrors and anything else (a bug, a constraint the backend did not
 * expect) pass through unchanged.
 */
import { ChatStoreError, redact } from '../../errors.js';
import { isNetworkError } from '../sql/errors.js';

/** SQLSTATE classes and codes meaning "not now": connection, resources, shutdown, system, access. */
const UNAVAILABLE_SQLSTATE = [
  /^08/, // connection exception
  /^53/, // insufficient resources (too many connections, disk full, out of memory)
  /^57P0[1-4]$/, // admin shutdown, crash shutdown, cannot connect now, database dropped
  /^58/, // system error (I/O)
  /^28/, // invalid authorization: the engine cannot be used with these credentials
  /^3D000$/, // the database does not exist
  /^40001$/, // serialization failure, after the backend's own retries
  /^40P01$/, // deadlock detected, after the backend's own retries
  /^55P03$/, // lock not available
  /^57014$/, // statement timeout or cancel
];

/** Driver messages of a connection that died or a pool that cannot give one. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Cannot use a pool after calling end|Client was closed|the database system is (starting up|shutting down|in recovery mode)/i;

/** The SQLSTATE of a server error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** An error of `pg` or of the server as a chatstore error, as above; anything else unchanged. */
export function toChatStoreError(error: unknown): unknown {
  if (error instanceof ChatStoreError || !(error instanceof Error)) return error;
  const state = sqlState(error);
  const unavailable =
    isNetworkError(error) ||
    (state !== undefined && UNAVAILABLE_SQLSTATE.some((pattern) => pattern.test(state))) ||
    UNAVAILABLE_MESSAGES.test(error.message);
  if (!unavailable) return error;
  const detail = error.message === '' ? ((error as { code?: string }).code ?? error.name) : error.message;
  return new ChatStoreError('UNAVAILABLE', `postgres: ${redact(detail)}`, { cause: error });
}
