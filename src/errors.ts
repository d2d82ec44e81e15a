/**
 * The one error class of chatstore (errors in docs/api.md). The driver's error rides in `cause`; messages never
 * contain credentials.
 */

/** @example if (e instanceof ChatStoreError && e.code === 'CONFLICT') retry(); */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNAVAILABLE',
  'MISSING_DRIVER',
  'UNSUPPORTED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status for each code, for servers built on the store. @example HTTP_STATUS.NOT_FOUND === 404; */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  MISSING_DRIVER: 500,
  UNSUPPORTED: 501,
};

/** Extra facts about an error: the failing field path for validation errors. */
export interface ChatStoreErrorOptions {
  cause?: unknown;
  /** For `INVALID_ARGUMENT`: where in the input the problem is, e.g. `messages[2].content`. */
  path?: string;
}

/**
 * @example
 * throw new ChatStoreError('NOT_FOUND', 'message m1 not found');
 */
export class ChatStoreError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, options: ChatStoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatStoreError';
    this.code = code;
    this.path = options.path;
  }
}

/** True when `error` is a ChatStoreError, optionally with the given code. @example isChatStoreError(e, 'CONFLICT') */
export function isChatStoreError(error: unknown, code?: ErrorCode): error is ChatStoreError {
  return error instanceof ChatStoreError && (code === undefined || error.code === code);
}

/** Replaces the password (and any user info) of URLs inside `text`. @example redact('postgres://u:p@h/db') === 'postgres://u:***@h/db' */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@');
}
