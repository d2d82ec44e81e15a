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

/**
 * Hides the credentials of every URL inside `text`: the one redaction rule of chatstore, used for
 * error messages, logs and the admin page.
 *
 * - The password of the user info is replaced by `***`: everything between `scheme://user:` and the
 *   last `@` of the URL, so a password with a raw `@`, `/`, `?` or `#` is hidden whole. A URL ends at
 *   white space or where the next `scheme://` starts.
 * - The values of secret query parameters (`password`, `pass`, `pwd`, `sslpassword`, `sslkey`,
 *   `secret`, `token`, `auth`, `signature`, and any name ending in `password`, `secret`, `token` or
 *   `key`, such as `api_key`, `client_secret`, `access_token`) become `***`; a value containing a raw
 *   `&` is hidden up to the next `name=`.
 * - A URL that cannot be split (a `user:` but no `@` after it) is hidden after `scheme://user:`.
 *
 * When a URL is ambiguous, more is hidden rather than less (an `@` in a query value hides the host).
 * @example redact('postgres://u:p@ss@h/db?sslpassword=x') === 'postgres://u:***@h/db?sslpassword=***'
 */
export function redact(text: string): string {
  const starts = [...text.matchAll(SCHEME)].map((match) => ({
    index: match.index,
    body: match.index + match[0].length,
  }));
  if (starts.length === 0) return text;
  let result = text.slice(0, starts[0]?.index);
  starts.forEach((start, i) => {
    const next = starts[i + 1]?.index ?? text.length;
    let end = endOf(text.slice(start.body, next), /\s/) + start.body;
    if (passwordCut(text.slice(start.body, end))) {
      // `scheme://user:pass word@host`: the password goes on after white space, up to the last '@'
      // of the line.
      const line = text.slice(end, start.body + endOf(text.slice(start.body, next), /[\r\n]/));
      const at = line.lastIndexOf('@');
      if (at >= 0) end += at + endOf(line.slice(at), /\s/);
    }
    result += text.slice(start.index, start.body) + redactUrlBody(text.slice(start.body, end)) + text.slice(end, next);
  });
  return result;
}

const SCHEME = /[a-z][a-z0-9+.-]*:\/\//gi;
/** One host of an authority without user info: a name or an IPv6 literal, an optional port. */
const HOST = String.raw`(?:\[[0-9A-Fa-f:.]+(?:%[^\]]*)?\]|[A-Za-z0-9._~%!$&'()*+;=-]*)(?::\d*)?`;
/** `host[:port][,host[:port]…]`, as libpq and Redis Sentinel URLs write several hosts. */
const HOSTS = new RegExp(`^${HOST}(?:,${HOST})*$`);
const SECRET_PARAMS = new Set(['pass', 'passwd', 'pwd', 'auth', 'sig', 'signature', 'credential', 'credentials']);
const SECRET_SUFFIXES = ['password', 'secret', 'token', 'key'];
const PARAM_START = /^[A-Za-z0-9_.%~+-]+=/;

/** True for `user:…` with no '@' after it: a password whose host part was cut off or never written. */
function passwordCut(body: string): boolean {
  const authority = body.slice(0, endOf(body, /[/?#\\]/));
  return !body.includes('@') && authority.includes(':') && !isHostList(authority);
}

/** `host[:port],…`, closing punctuation after it allowed (a URL quoted or ending a sentence). */
function isHostList(authority: string): boolean {
  return HOSTS.test(authority) || HOSTS.test(authority.replace(/["'`)>\]},;.!]+$/, ''));
}

/** The part of a URL after `scheme://`, credentials hidden. */
function redactUrlBody(body: string): string {
  const authorityEnd = endOf(body, /[/?#\\]/);
  const authority = body.slice(0, authorityEnd);
  const at = body.lastIndexOf('@');
  const plainHost = isHostList(authority);
  // A plain host list without a port, or whose '@'s come only in the query: no user info. A port
  // followed by an '@' in the path is rather a password cut at a raw '/' (`u:12/34@h`).
  const hasUserInfo =
    at >= 0 && (!plainHost || (authority.includes(':') && body.slice(0, endOf(body, /[?#]/)).includes('@')));
  if (!hasUserInfo) {
    if (passwordCut(body)) return `${authority.slice(0, authority.indexOf(':'))}:***`;
    return redactQuery(body);
  }
  const userInfo = body.slice(0, at);
  const colon = userInfo.indexOf(':');
  const user = colon >= 0 ? `${userInfo.slice(0, colon)}:***` : userInfo.includes('@') ? '***' : userInfo;
  return `${user}@${redactQuery(body.slice(at + 1))}`;
}

/** Hides the values of secret query parameters in `host/path?query`. */
function redactQuery(rest: string): string {
  const mark = rest.indexOf('?');
  if (mark < 0) return rest;
  const parts = rest.slice(mark + 1).split('&');
  const kept: string[] = [];
  let hiding = false;
  for (const part of parts) {
    // Inside a secret value, a part that does not start a new `name=` is more of that value.
    if (hiding && !PARAM_START.test(part)) continue;
    const equals = part.indexOf('=');
    hiding = equals >= 0 && isSecretParam(part.slice(0, equals));
    kept.push(hiding ? `${part.slice(0, equals)}=***` : part);
  }
  return `${rest.slice(0, mark)}?${kept.join('&')}`;
}

function isSecretParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    // a name with broken escapes is compared as written
  }
  const normalized = decoded.toLowerCase().replace(/[\s_.-]/g, '');
  return SECRET_PARAMS.has(normalized) || SECRET_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

function endOf(text: string, pattern: RegExp): number {
  const index = text.search(pattern);
  return index < 0 ? text.length : index;
}
