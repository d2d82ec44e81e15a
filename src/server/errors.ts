/**
 * The one place where a failure becomes an HTTP response. Every error the app produces — a
 * `ChatStoreError` from the store, a request that fails its schema, a missing or weak API key, an
 * unknown route, a bug — leaves as the same envelope:
 *
 * ```json
 * { "error": { "code": "INVALID_ARGUMENT", "message": "limit: …", "path": "limit", "issues": […], "requestId": "…" } }
 * ```
 *
 * Status codes come from `HTTP_STATUS` for store codes (a `StatusError` carries another one: 422 for
 * a reused `Idempotency-Key`); the few codes only HTTP has are listed in `API_ERROR_STATUS`. A
 * request body the client stopped sending is its fault: 400 `REQUEST_ABORTED`, logged at info.
 * Unknown errors become a bare 500 `INTERNAL` whose details go to the log only.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { ChatStoreError, type ChatStoreErrorOptions, type ErrorCode, HTTP_STATUS, redact } from '../errors.js';
import type { ServerEnv } from './env.js';
import type { RequestLogger } from './logger.js';
import type { ServerMetrics } from './metrics.js';

/** Codes the HTTP layer adds to the store's own (`ERROR_CODES`). */
export const API_ERROR_STATUS = {
  /** The client closed the connection (or its upload failed) before the whole body arrived. */
  REQUEST_ABORTED: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
} as const;

/** Every `error.code` a client can see. */
export type ApiErrorCode = ErrorCode | keyof typeof API_ERROR_STATUS;

/** One failing field of a request. */
export interface ApiIssue {
  path: string;
  message: string;
}

/** The body of every error response. */
export interface ApiErrorBody {
  error: {
    code: ApiErrorCode;
    message: string;
    /** The first failing field, for validation errors. */
    path?: string;
    /** Every failing field, when a request schema rejected several. */
    issues?: ApiIssue[];
    requestId: string;
  };
}

/**
 * Turns a schema failure into the store's validation error, so both kinds of bad input leave the
 * same way. The `ZodError` rides in `cause`; the envelope lists its issues.
 */
export function validationError(error: ZodError): ChatStoreError {
  const issues = zodIssues(error);
  const first = issues[0] ?? { path: '', message: 'is not valid' };
  const message = first.path === '' ? first.message : `${first.path}: ${first.message}`;
  return new ChatStoreError('INVALID_ARGUMENT', message, {
    ...(first.path === '' ? {} : { path: first.path }),
    cause: error,
  });
}

/**
 * A store error answered with another status than `HTTP_STATUS` gives its code: the code stays one
 * clients know, the status says what HTTP says for the case (422 for an `Idempotency-Key` reused
 * with another payload, as the IETF Idempotency-Key draft asks).
 */
export class StatusError extends ChatStoreError {
  readonly status: number;

  constructor(status: number, code: ErrorCode, message: string, options: ChatStoreErrorOptions = {}) {
    super(code, message, options);
    this.name = 'StatusError';
    this.status = status;
  }
}

/** Reading the request body failed: the client went away, or its upload broke, mid-body. */
export class RequestAbortedError extends Error {
  constructor(cause: unknown) {
    super('the request body ended early: the client closed the connection before sending all of it', { cause });
    this.name = 'RequestAbortedError';
  }
}

export function unauthenticated(message: string): HTTPException {
  return new HTTPException(401, { message });
}

export function permissionDenied(message: string): HTTPException {
  return new HTTPException(403, { message });
}

/**
 * The app's `onError` and `notFound`: each builds the envelope, counts the error by code and logs
 * what is worth logging (never the request body or headers).
 */
export function errorHandlers(
  metrics: ServerMetrics,
  logger: RequestLogger,
): {
  onError: (error: Error, c: Context<ServerEnv>) => Response;
  notFound: (c: Context<ServerEnv>) => Response;
} {
  const respond = (c: Context<ServerEnv>, status: number, body: Omit<ApiErrorBody['error'], 'requestId'>) => {
    metrics.errors.inc({ code: body.code });
    if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="chatstore"');
    return c.json(
      { error: { ...body, requestId: c.get('requestId') ?? '' } } satisfies ApiErrorBody,
      status as ContentfulStatusCode,
    );
  };
  return {
    onError(error, c) {
      if (error instanceof RequestAbortedError) {
        // The client's doing, not a failure of the server: no error log, a client-error code.
        logger.info({ requestId: c.get('requestId'), method: c.req.method }, 'client aborted the request');
        return respond(c, 400, { code: 'REQUEST_ABORTED', message: error.message });
      }
      if (error instanceof ChatStoreError) {
        const status = error instanceof StatusError ? error.status : HTTP_STATUS[error.code];
        if (status >= 500) logFailure(logger, c, error);
        const issues = error.cause instanceof ZodError ? zodIssues(error.cause) : undefined;
        return respond(c, status, {
          code: error.code,
          message: redact(error.message),
          ...(error.path === undefined ? {} : { path: error.path }),
          ...(issues === undefined || issues.length < 2 ? {} : { issues }),
        });
      }
      if (error instanceof HTTPException && error.status < 500) {
        const code = codeForStatus(error.status);
        return respond(c, error.status, { code, message: messageFor(code, error.message) });
      }
      logFailure(logger, c, error);
      return respond(c, 500, { code: 'INTERNAL', message: 'internal error; see the server log for this request id' });
    },
    notFound(c) {
      return respond(c, 404, { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` });
    },
  };
}

function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    default:
      return 'INVALID_ARGUMENT';
  }
}

function messageFor(code: ApiErrorCode, message: string): string {
  if (code === 'UNSUPPORTED_MEDIA_TYPE') return 'the request body must be JSON (Content-Type: application/json)';
  return message === '' ? code.toLowerCase().replace(/_/g, ' ') : message;
}

function logFailure(logger: RequestLogger, c: Context<ServerEnv>, error: unknown): void {
  const err =
    error instanceof Error
      ? { type: error.name, message: redact(error.message), stack: redact(error.stack ?? '') }
      : { type: typeof error, message: 'non-error thrown' };
  logger.error({ requestId: c.get('requestId'), method: c.req.method, err }, 'request failed');
}

/**
 * The issues of a schema failure with paths written like the store writes them (`messages[2].content`).
 * A union that failed reports the branch the input most likely meant: the one whose issues reach
 * deepest into the input, then the one with the fewest issues.
 */
function zodIssues(error: ZodError): ApiIssue[] {
  return flatten(error.issues).map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

type Issue = ZodError['issues'][number];

function flatten(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.map((branch) => flatten(branch, path));
      const depth = (branch: Issue[]) => Math.max(...branch.map((i) => i.path.length));
      branches.sort((a, b) => depth(b) - depth(a) || a.length - b.length);
      return branches[0] ?? [];
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ ...issue, path: [...path, key], message: 'is not a known field' }));
    }
    return [{ ...issue, path }];
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  let result = '';
  for (const key of path) {
    result += typeof key === 'number' ? `[${key}]` : result === '' ? String(key) : `.${String(key)}`;
  }
  return result;
}
