/**
 * The one place where errors of the driver and the file system become chatstore errors: an engine
 * that cannot serve now is `UNAVAILABLE` (invariant 7 in docs/ARCHITECTURE.md) with the original as `cause`. ChatStoreErrors
 * and anything else (a bug) pass through unchanged.
 */
import { ChatStoreError } from '../../errors.js';

/** Driver error codes (and their extended forms, `SQLITE_IOERR_WRITE`…) meaning the engine cannot serve now. */
const UNAVAILABLE_CODES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  // A WAL lock race that outlasted SQLite's own retries: the same kind of failure as SQLITE_BUSY.
  'SQLITE_PROTOCOL',
];

/** The error to throw for `error`: `UNAVAILABLE` when the engine cannot serve now, else `error` itself. */
export function toChatStoreError(error: unknown): unknown {
  if (error instanceof ChatStoreError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const unavailable =
    (typeof code === 'string' && UNAVAILABLE_CODES.some((known) => code === known || code.startsWith(`${known}_`))) ||
    error.message.includes('database connection is not open') ||
    // A Node system error: the file system refused the directory or the file.
    (typeof code === 'string' && 'syscall' in error);
  return unavailable ? new ChatStoreError('UNAVAILABLE', `sqlite: ${error.message}`, { cause: error }) : error;
}
