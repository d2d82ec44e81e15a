/** Liveness, readiness (which asks the engine) and Prometheus metrics. */
import { z } from '@hono/zod-openapi';
import { isChatStoreError, redact } from '../../errors.js';
import { type App, access, errorResponse, errors, json, publicAccess, type RouteDeps, route } from './route-kit.js';

export interface HealthOptions {
  /** True once the server is shutting down: `/readyz` then answers 503 so balancers move on. */
  draining?: () => boolean;
  /** How long `/readyz` waits for the engine before calling it unavailable. Default 2000 ms. */
  readinessTimeoutMs?: number;
}

const Health = z.object({ status: z.literal('ok') });
const Readiness = z
  .object({
    status: z.enum(['ok', 'unavailable', 'draining']),
    backend: z.string(),
    reason: z.string().optional(),
  })
  .openapi('Readiness');

// Any id will do: the probe is a point read that must reach the engine, whatever it finds.
const PROBE_ID = 'chatstore-readiness-probe';

export function registerHealthRoutes(app: App, deps: RouteDeps, options: HealthOptions): void {
  const { store, metrics, keyring } = deps;
  const timeoutMs = options.readinessTimeoutMs ?? 2000;

  app.openapi(
    route({
      ...publicAccess(),
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      tags: ['operations'],
      summary: 'Liveness',
      description: 'The process answers. No key needed.',
      // 403: a keyless server answers loopback clients only, probes included.
      responses: { 200: json(Health, 'alive'), 403: errorResponse(403) },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  app.openapi(
    route({
      ...publicAccess(),
      method: 'get',
      path: '/readyz',
      operationId: 'ready',
      tags: ['operations'],
      summary: 'Readiness',
      description:
        'The engine answers a point read within the timeout and the server is not shutting down. No key needed.',
      responses: { 200: json(Readiness, 'ready'), 403: errorResponse(403), 503: json(Readiness, 'not ready') },
    }),
    async (c) => {
      const backend = store.backendName;
      if (options.draining?.() === true) return c.json({ status: 'draining' as const, backend }, 503);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([metrics.timeStore('ping', () => store.getConversation(PROBE_ID)), timeout]);
        return c.json({ status: 'ok' as const, backend }, 200);
      } catch (error) {
        // A public route: a driver message may name the store URL.
        const reason = isChatStoreError(error)
          ? error.code
          : error instanceof Error
            ? redact(error.message)
            : 'unknown';
        return c.json({ status: 'unavailable' as const, backend, reason }, 503);
      } finally {
        clearTimeout(timer);
      }
    },
  );

  app.openapi(
    route({
      ...access(keyring, 'read'),
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description:
        'Request latency per route, appends, reads, errors by code, store latency (and process metrics when served by the CLI). Needs a key with `read` when keys are configured.',
      responses: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
        ...errors(),
      },
    }),
    async (c) => c.text(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
  );
}
