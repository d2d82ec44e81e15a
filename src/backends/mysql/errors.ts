/**
 * The one place where errors of `mysql2` and of the server become chatstore errors (errors in docs/api.md): an
 * engine that cannot serve now is `UNAVAILABLE` with the driver's error as `cause`; URLs in
 * messages are redacted. ChatStoreErrors and anything else (a bug, a constraint the backend did not
 * expect) pass through unchanged.
 */
import { ChatStoreError, redact } from '../../errors.js';
import { isNetworkError } from '../sql/errors.js';

/** Server and client error codes (mysql2's `code`) meaning "not now". */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  // the connection: lost, refused, timed out, or the pool cannot give one
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'POOL_CLOSED',
  'CR_SERVER_GONE_ERROR',
  'CR_SERVER_LOST',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  // resources: connections, memory, disk, a read-only server
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_OUT_OF_RESOURCES',
  'ER_OUTOFMEMORY',
  'ER_DISK_FULL',
  'ER_RECORD_FILE_FULL',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_READ_ONLY_MODE',
  // the engine cannot be used with these credentials, or the database is gone
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  // locks and timeouts, after the backend's own retries
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_STATEMENT_TIMEOUT',
  'ER_QUERY_TIMEOUT',
]);

/** Driver messages of a connection that died or a pool that cannot give one. */
const UNAVAILABLE_MESSAGES =
  /Pool is closed|connection is in closed state|Connection lost|server has gone away|Queue limit reached|Too many connections/i;

/** The driver's error code (`ER_DUP_ENTRY`, `ECONNREFUSED`…), if there is one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error instanceof ChatStoreError ? error.cause : error) as { code?: unknown } | null | undefined;
  return typeof code?.code === 'string' ? code.code : undefined;
}

/** A driver or server error as a chatstore error (see above); anything else is returned unchanged. */
export function toChatStoreError(error: unknown): unknown {
  if (error instanceof ChatStoreError || !(error instanceof Error)) return error;
  const code = errorCode(error);
  const unavailable =
    isNetworkError(error) ||
    (code !== undefined && UNAVAILABLE_CODES.has(code)) ||
    // mysql2 marks errors after which the connection is unusable as fatal
    (error as { fatal?: unknown }).fatal === true ||
    UNAVAILABLE_MESSAGES.test(error.message);
  if (!unavailable) return error;
  const detail = error.message === '' ? (code ?? error.name) : error.message;
  return new ChatStoreError('UNAVAILABLE', `mysql: ${redact(detail)}`, { cause: error });
}
