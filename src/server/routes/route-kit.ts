/**
 * What every route file gets, and the small helpers that keep route definitions short: the scope a
 * route needs (enforced and documented from one declaration), JSON bodies, error responses.
 */
import type { OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { ChatStore } from '../../store.js';
import { type Keyring, requireScope } from '../auth.js';
import type { ServerEnv } from '../env.js';
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

/**
 * The access part of a route definition: the scope check runs before the request is validated (so
 * a caller without a key learns nothing from a 400), and the document lists the scope.
 */
export function access(
  keyring: Keyring,
  scope: Scope,
): { security: Record<string, string[]>[]; middleware: MiddlewareHandler<ServerEnv> } {
  return {
    security: [{ bearerAuth: [scope] }, { apiKeyHeader: [scope] }],
    middleware: requireScope(keyring, scope),
  };
}

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
  400: 'invalid input (INVALID_ARGUMENT); `path` names the failing field',
  401: 'missing or unknown API key (UNAUTHENTICATED)',
  403: 'the key lacks the scope, or a keyless server was called from another machine (PERMISSION_DENIED)',
  404: 'no such resource (NOT_FOUND)',
  409: 'a conflict with stored data (CONFLICT)',
  413: 'the body is larger than the server accepts (PAYLOAD_TOO_LARGE)',
  415: 'the body is not JSON (UNSUPPORTED_MEDIA_TYPE)',
  503: 'the engine is unreachable (UNAVAILABLE)',
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;
type ErrorResponse = ReturnType<typeof json<typeof ErrorSchema>>;

/** The error responses of a route: 400, 401, 403 and 503 always, plus the ones given. */
export function errors<S extends ErrorStatus>(...extra: S[]): Record<S | 400 | 401 | 403 | 503, ErrorResponse> {
  const statuses = [...new Set<ErrorStatus>([400, 401, 403, ...extra, 503])].sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => [status, json(ErrorSchema, ERROR_DESCRIPTIONS[status])]),
  ) as Record<S | 400 | 401 | 403 | 503, ErrorResponse>;
}

/** `'true'` → true; anything else → false. */
export function flag(value: 'true' | 'false' | undefined): boolean {
  return value === 'true';
}
