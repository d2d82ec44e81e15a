/**
 * What the server SQL backends share about failures: the Node socket errors that mean the server
 * cannot be reached. Each engine adds its own error codes.
 */

/** Node socket and DNS errors: the server is down, unreachable or went away mid-call. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT',
]);

/**
 * True for a Node network error (by `code`), on the error or on any error in its `errors`
 * (an `AggregateError` from trying several addresses, `localhost` as ::1 and 127.0.0.1).
 */
export function isNetworkError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  const inner = (error as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.some(isNetworkError);
}
