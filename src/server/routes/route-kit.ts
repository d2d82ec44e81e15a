/**
 * What every route file gets, and the small helpers that keep route definitions short: the scope a
 * route needs (enforced and documented from one declaration), JSON bodies, error responses.
 */
import { createRoute, type OpenAPIHono, type RouteConfig, type z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { ChatStoreError } from '../../errors.js';
import type { ChatStore } from '../../store.js';
import { type Keyring, requireScope } from '../auth.js';
import type { ServerEnv } from '../env.js';
import { permissionDenied, RequestAbortedError } from '../errors.js';
import type { RequestLogger } from '../logger.js';
import type { ServerMetrics } from '../metrics.js';
import type { Scope } from '../principal.js';
import { ErrorSchema } from '../schemas.js';

export interface RouteDeps {
  store: ChatStore;
  keyring: Keyring;
  metrics: ServerMetrics;
  logger: RequestLogger;
}

/** The app every route file registers on. */
export type App = OpenAPIHono<ServerEnv>;

/** One way to be let in: a security scheme and the scopes it needs. */
type SecurityRequirement = Record<string, string[]>;

/**
 * What the document needs of every operation beyond the library's `RouteConfig`:
 * - `operationId`, the name a generated client gives the call: the `ChatStore` method the route is
 *   (`append`, `recent`, `updateStatus`…), else a lowerCamel verb phrase (`health`, `startMigration`);
 * - `security`: `access(keyring, scope)` for a route that needs a key, `[]` for a public one.
 */
export type DocumentedRoute = Omit<RouteConfig, 'path'> & {
  path: string;
  operationId: string;
  security: SecurityRequirement[];
};

/**
 * `createRoute` that will not build a route without its `operationId` and `security`, so no
 * operation reaches `/openapi.json` unnamed or with its access left unsaid.
 */
export function route<P extends string, R extends DocumentedRoute & { path: P }>(
  config: R,
): ReturnType<typeof createRoute<P, R>> {
  return createRoute(config);
}

/**
 * The access part of a route definition: the scope check runs before the request is validated (so
 * a caller without a key learns nothing from a 400), and the document lists the scope. After it,
 * before validation: path ids must be well-formed percent-encoding, and the body is read whole.
 */
export function access(
  keyring: Keyring,
  scope: Scope,
): { security: SecurityRequirement[]; middleware: MiddlewareHandler<ServerEnv>[] } {
  return {
    security: [{ bearerAuth: [scope] }, { apiKeyHeader: [scope] }],
    middleware: [requireScope(keyring, scope), strictPathParams, readBody],
  };
}

/**
 * The access part of a public route (the probes; the webhooks, whose signature is their
 * authentication): no key, and the document says so with an empty `security`.
 */
export function publicAccess(): { security: SecurityRequirement[] } {
  return { security: [] };
}

/**
 * A scope one option of a route needs beyond the route's own (`compact=true` on a hard delete needs
 * `admin`): 403 when the caller's key lacks it. A keyless server grants every scope (loopback only).
 */
export function demandScope(c: Context<ServerEnv>, keyring: Keyring, scope: Scope, why: string): void {
  if (!keyring.enabled) return;
  if (c.get('principal')?.scopes.has(scope) !== true) {
    throw permissionDenied(`the API key lacks the ${scope} scope, which ${why} needs`);
  }
}

/**
 * 400 for a path parameter whose percent-encoding is broken (`x%zz`, a truncated `%E0%A4%A`, an
 * overlong `%C0%AF`, an encoded lone surrogate `%ED%A0%80`). The router decodes what it can and
 * keeps the rest as written, which would make `x%zz` an id; so each parameter's raw segment of the
 * request URL must decode as UTF-8, strictly.
 */
const strictPathParams: MiddlewareHandler<ServerEnv> = async (c, next) => {
  const pattern = c.req.routePath.split('/');
  const segments = rawPath(c.req.url).split('/');
  pattern.forEach((part, index) => {
    if (!part.startsWith(':')) return;
    const segment = segments[index] ?? '';
    if (!segment.includes('%')) return;
    try {
      decodeURIComponent(segment);
    } catch {
      const name = part.slice(1);
      throw new ChatStoreError('INVALID_ARGUMENT', `${name}: is not valid percent-encoded UTF-8`, { path: name });
    }
  });
  await next();
};

/** The path of a URL as sent, escapes undecoded. */
function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.slice(start).search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, start + end);
}

/**
 * Reads the request body whole before validation, so that a body the client stopped sending (it
 * closed the connection mid-upload) is told apart from malformed JSON: `RequestAbortedError`, a
 * client error. The validators then parse the cached text.
 */
const readBody: MiddlewareHandler<ServerEnv> = async (c, next) => {
  const method = c.req.method;
  if (method !== 'GET' && method !== 'HEAD') {
    try {
      await c.req.text();
    } catch (cause) {
      throw new RequestAbortedError(cause);
    }
  }
  await next();
};

export function json<T extends z.ZodType>(
  schema: T,
  description: string,
): { description: string; content: { 'application/json': { schema: T } } } {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<T extends z.ZodType>(
  schema: T,
  description?: string,
): { required: true; description?: string; content: { 'application/json': { schema: T } } } {
  return {
    required: true,
    ...(description === undefined ? {} : { description }),
    content: { 'application/json': { schema } },
  };
}

const ERROR_DESCRIPTIONS = {
  400: 'invalid input (INVALID_ARGUMENT); `path` names the failing field. REQUEST_ABORTED: the body ended early',
  401: 'missing or unknown API key (UNAUTHENTICATED)',
  403: 'the key lacks the scope, or a keyless server was called from another machine or by a host name other than localhost, 127.0.0.1 or [::1] (PERMISSION_DENIED)',
  404: 'no such resource (NOT_FOUND)',
  409: 'a conflict with stored data (CONFLICT)',
  413: 'the body is larger than the server accepts (PAYLOAD_TOO_LARGE)',
  415: 'the body is not JSON (UNSUPPORTED_MEDIA_TYPE)',
  422: 'the Idempotency-Key was used before for a different payload; nothing was stored (CONFLICT)',
  501: 'the store does not have this feature (UNSUPPORTED): an archive call on a store without archive, say',
  503: 'the engine is unreachable (UNAVAILABLE)',
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;
type ErrorResponse = ReturnType<typeof json<typeof ErrorSchema>>;

/** The error responses of a route: 400, 401, 403 and 503 always, plus the ones given. */
export function errors<S extends ErrorStatus>(...extra: S[]): Record<S | 400 | 401 | 403 | 503, ErrorResponse> {
  const statuses = [...new Set<ErrorStatus>([400, 401, 403, ...extra, 503])].sort((a, b) => a - b);
  return Object.fromEntries(statuses.map((status) => [status, errorResponse(status)])) as Record<
    S | 400 | 401 | 403 | 503,
    ErrorResponse
  >;
}

/** One error response, for a route that can fail in fewer ways than `errors` lists (a probe). */
export function errorResponse(status: ErrorStatus): ErrorResponse {
  return json(ErrorSchema, ERROR_DESCRIPTIONS[status]);
}

/** `'true'` → true; anything else → false. */
export function flag(value: 'true' | 'false' | undefined): boolean {
  return value === 'true';
}
