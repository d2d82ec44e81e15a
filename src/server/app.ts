/**
 * The chatstore HTTP app: a Web-standard `fetch` handler (Hono) over one `ChatStore`. Nothing here
 * imports Node: the Node listener (`node.ts`) is a thin edge, and the same app can run inside a
 * Cloudflare Worker. Runtime facts (the client's address) arrive as bindings; see `ServerBindings`.
 *
 * Request pipeline: response headers (`nosniff`, `no-store`) → request id → timing, access log and
 * metrics → CORS (only when origins are configured) → loopback rule (keyless servers: loopback
 * clients, loopback `Host`) → body size limit → per-route scope check → path ids checked → body read
 * (an upload cut short is the client's `REQUEST_ABORTED`) → schema validation → handler → one `onError`.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import type { Registry } from 'prom-client';
import { ChatStoreError } from '../errors.js';
import type { ChatStore } from '../store.js';
import { registerArchiveMetrics } from './archive-metrics.js';
import { type ApiKey, createKeyring, loopbackOnly } from './auth.js';
import type { ServerEnv } from './env.js';
import { errorHandlers, RequestAbortedError, validationError } from './errors.js';
import { type RequestLogger, silentLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { registerDocs } from './openapi.js';
import { type AdminOptions, registerAdminRoutes } from './routes/admin.js';
import { registerConversationRoutes } from './routes/conversations.js';
import { type HealthOptions, registerHealthRoutes } from './routes/health.js';
import { registerMessageRoutes } from './routes/messages.js';
import { type Migrations, registerMigrationRoutes } from './routes/migrate.js';
import type { RouteDeps } from './routes/route-kit.js';
import { registerStoreRoutes } from './routes/store.js';
import { registerWebhookRoutes, type WebhookSecrets } from './routes/webhooks.js';

export type { WebhookSecrets };

import { registerTierMetrics } from './tier-metrics.js';

/** The default largest request body: a batch of a few hundred ordinary messages. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * @example
 * createApp(store, { apiKeys: parseApiKeys(process.env.CHATSTORE_API_KEYS ?? ''), logger: pino() });
 */
export interface AppOptions extends AdminOptions, HealthOptions {
  /**
   * API keys and their scopes (see `parseApiKeys` for the `CHATSTORE_API_KEYS` format). Without
   * any, the app answers loopback clients only, without asking for a key.
   */
  apiKeys?: readonly ApiKey[];
  /** Largest request body in bytes; larger ones get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Where access and failure logs go (a pino logger fits). Default: nowhere. */
  logger?: RequestLogger;
  /** The prom-client registry to register metrics on. Default: a fresh one for this app. */
  registry?: Registry;
  /**
   * Browser origins allowed to call the API (CORS), exactly as a browser sends them
   * (`https://app.example.com`, `http://localhost:3000`). Default: none, and no CORS header at all.
   */
  corsOrigins?: readonly string[];
  /** Migrations over HTTP (`MigrationJobs` of `chatstore/migrate`); without them those endpoints answer 501. */
  migrations?: Migrations;
  /** The providers' webhook secrets (`/webhooks/*`); a provider without its secret answers 501. */
  webhooks?: WebhookSecrets;
}

/** Request headers a browser page may send, and response headers it may read, when CORS is on. */
const CORS_ALLOW_HEADERS = ['Authorization', 'X-Api-Key', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'];
const CORS_EXPOSE_HEADERS = ['X-Request-Id', 'Location', 'WWW-Authenticate'];
/** Responses a cache may keep: the documents. Everything else (data, errors, probes) is `no-store`. */
const CACHEABLE_PATHS = new Set(['/docs', '/openapi.json']);

/**
 * @example
 * import { createApp } from 'chatstore/server';
 * const app = createApp(new ChatStore(memoryBackend()), {});
 * const res = await app.request('/healthz', {}, { remoteAddress: '127.0.0.1' });
 */
export function createApp(store: ChatStore, options: AppOptions = {}): OpenAPIHono<ServerEnv> {
  const keyring = createKeyring(options.apiKeys ?? []);
  const logger = options.logger ?? silentLogger;
  const metrics = createMetrics(options.registry);
  registerTierMetrics(metrics.registry, () => store.tierStats());
  registerArchiveMetrics(metrics.registry, () => store.archiveStats());
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const deps: RouteDeps = { store, keyring, metrics, logger };

  const app = new OpenAPIHono<ServerEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
  const { onError, notFound } = errorHandlers(metrics, logger);
  app.onError(onError);
  app.notFound(notFound);

  app.use(responseHeaders());
  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 128 }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routeLabel(c);
    const status = c.res.status;
    metrics.observeRequest(c.req.method, route, status, seconds);
    const principal = c.get('principal');
    logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route,
        status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        ...(principal === undefined ? {} : { key: principal.keyIndex }),
      },
      'request',
    );
  });
  const corsOrigins = options.corsOrigins ?? [];
  if (corsOrigins.length > 0) {
    // Before the key check: a preflight carries no key. It answers with the CORS headers only.
    app.use(
      cors({
        origin: [...corsOrigins],
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        maxAge: 600,
      }),
    );
  }
  app.use(loopbackOnly(keyring));
  app.use(limitBody(maxBodyBytes));

  registerHealthRoutes(app, deps, options);
  registerConversationRoutes(app, deps);
  registerMessageRoutes(app, deps);
  registerStoreRoutes(app, deps);
  registerAdminRoutes(app, deps, options);
  registerMigrationRoutes(app, deps, options.migrations);
  registerWebhookRoutes(app, deps, options.webhooks);
  registerDocs(app);
  return app;
}

/**
 * `X-Content-Type-Options: nosniff` on every response; `Cache-Control: no-store` on every response
 * but the documents (`/docs`, `/openapi.json`): data, errors and probes are never kept by a cache.
 */
function responseHeaders(): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set('X-Content-Type-Options', 'nosniff');
    if (!CACHEABLE_PATHS.has(c.req.path) || c.res.status >= 400) headers.set('Cache-Control', 'no-store');
  };
}

/**
 * 413 for bodies over `maxBytes`. A declared Content-Length is checked without touching the body;
 * only chunked bodies are counted as they stream. Reading `request.body` on every request would
 * make the Node adapter build a full `Request`, which costs more than a whole `GET recent`.
 */
function limitBody(maxBytes: number): MiddlewareHandler<ServerEnv> {
  const tooLarge = () => {
    throw new ChatStoreError('PAYLOAD_TOO_LARGE', `the request body must be at most ${maxBytes} bytes`);
  };
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxBytes) tooLarge();
      return next();
    }
    const body = c.req.raw.body;
    if (body === null) return next();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = body.getReader();
    for (;;) {
      const read = await reader.read().catch((cause: unknown) => {
        throw new RequestAbortedError(cause);
      });
      if (read.done) break;
      size += read.value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        tooLarge();
      }
      chunks.push(read.value);
    }
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: whole });
    return next();
  };
}

/** The matched route pattern (`/v1/messages/:messageId`), never the path with its ids; `unmatched` for 404s. */
function routeLabel(c: Context<ServerEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i];
    if (route !== undefined && route.method !== 'ALL') return route.path;
  }
  return 'unmatched';
}
