/**
 * The HTTP workload: chatstore's HTTP API against the HTTP floor of the same framework, measured
 * with autocannon. Both servers run in this process on 127.0.0.1 (random ports) behind the same
 * Node edge; the load generator runs in a worker thread so it does not share the servers' event
 * loop. The floor is a bare Hono app that answers the same routes with constant JSON of the same
 * bytes chatstore returns, so the gap between the two is the store (validation, the engine, ids,
 * idempotency), not the framework or the payload size.
 *
 * Operations:
 * - `GET recent`: `GET /v1/conversations/http-recent/messages/recent?n=20` on a conversation
 *   pre-filled with `prefill` messages.
 * - `POST append`: `POST /v1/conversations/http-append/messages` with one small message (a new id
 *   per request), every connection writing to the same conversation.
 *
 * Ratios are the caller's: `chatstore.requestsPerSecond / floor.requestsPerSecond`, say.
 */
import { Hono } from 'hono';
import { openStore } from '../src/open.js';
import { createApp } from '../src/server/app.js';
import { type NodeServer, startNodeServer } from '../src/server/node.js';
import type { ChatStore } from '../src/store.js';

/** @example await benchHttp({ url: 'sqlite:///tmp/bench/x.db', connections: 50, durationSeconds: 10 }) */
export interface HttpBenchOptions {
  /** Store URL for chatstore; the bench writes the conversations `http-recent` and `http-append`. */
  url: string;
  /** Concurrent HTTP/1.1 connections (no pipelining). */
  connections: number;
  /** Measured seconds per contender and operation. */
  durationSeconds: number;
  /** Unmeasured seconds before each measurement (JIT, caches, connections). Default 1. */
  warmupSeconds?: number;
  /** Messages in the conversation `GET recent` reads. Default 1000. */
  prefill?: number;
}

/** One contender on one operation. */
export interface HttpBenchResult {
  contender: 'chatstore' | 'hono floor';
  operation: 'GET recent' | 'POST append';
  /** 2xx responses per second over the measured duration. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** 2xx responses in the measured duration. */
  requests: number;
  /** Non-2xx responses plus connection errors and timeouts; a correct run has 0. */
  errors: number;
  durationSeconds: number;
  connections: number;
}

const RECENT_PATH = '/v1/conversations/http-recent/messages/recent?n=20';
const APPEND_PATH = '/v1/conversations/http-append/messages';
const APPEND_BODY = JSON.stringify({ role: 'user', content: 'Hi! Where is my order #1234?' });

/** What autocannon's programmatic API needs here (the package ships no types). */
interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

/**
 * Runs both contenders on both operations; resolves to four results (chatstore and floor for
 * `GET recent`, then for `POST append`).
 * @example
 * const results = await benchHttp({ url: 'memory://', connections: 20, durationSeconds: 3 });
 * console.table(results);
 */
export async function benchHttp(options: HttpBenchOptions): Promise<HttpBenchResult[]> {
  const warmupSeconds = options.warmupSeconds ?? 1;
  const autocannon = await loadAutocannon();
  const store = await openStore(options.url);
  const servers: NodeServer[] = [];
  try {
    await prefill(store, options.prefill ?? 1000);
    const chatstore = await startNodeServer(createApp(store), { port: 0, host: '127.0.0.1' });
    servers.push(chatstore);
    const recentBody = await (await fetch(`${chatstore.url}${RECENT_PATH}`)).text();
    const appendBody = await (await post(`${chatstore.url}${APPEND_PATH}`)).text();
    const floor = await startNodeServer(floorApp(recentBody, appendBody), { port: 0, host: '127.0.0.1' });
    servers.push(floor);

    const results: HttpBenchResult[] = [];
    for (const operation of ['GET recent', 'POST append'] as const) {
      for (const [contender, server] of [
        ['chatstore', chatstore],
        ['hono floor', floor],
      ] as const) {
        const request =
          operation === 'GET recent'
            ? { url: `${server.url}${RECENT_PATH}`, method: 'GET' }
            : {
                url: `${server.url}${APPEND_PATH}`,
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: APPEND_BODY,
              };
        const run = (duration: number) =>
          autocannon({ ...request, connections: options.connections, duration, workers: 1 });
        if (warmupSeconds > 0) await run(warmupSeconds);
        const measured = await run(options.durationSeconds);
        const failed = measured.non2xx + measured.errors + measured.timeouts;
        const ok = Math.max(0, measured.requests.total - measured.non2xx);
        results.push({
          contender,
          operation,
          requestsPerSecond: Math.round(ok / measured.duration),
          p50Ms: measured.latency.p50,
          p99Ms: measured.latency.p99,
          requests: ok,
          errors: failed,
          durationSeconds: measured.duration,
          connections: options.connections,
        });
      }
    }
    return results;
  } finally {
    await Promise.all(servers.map((server) => server.shutdown()));
    await store.close();
  }
}

/** The HTTP floor: the same routes, constant JSON of the same bytes, the request body read and dropped. */
function floorApp(recentBody: string, appendBody: string): Hono {
  const app = new Hono();
  const json = { 'content-type': 'application/json' };
  app.get('/v1/conversations/:conversationId/messages/recent', (c) => c.body(recentBody, 200, json));
  app.post('/v1/conversations/:conversationId/messages', async (c) => {
    await c.req.json();
    return c.body(appendBody, 201, json);
  });
  return app;
}

async function prefill(store: ChatStore, count: number): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const size = Math.min(500, count - start);
    await store.append(
      'http-recent',
      Array.from({ length: size }, (_, i) => ({
        role: (start + i) % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: `message ${start + i + 1}: a line of ordinary chat of ordinary length, give or take`,
      })),
    );
  }
}

function post(url: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: APPEND_BODY });
}

async function loadAutocannon(): Promise<Autocannon> {
  // A variable specifier: autocannon ships no type declarations.
  const specifier = 'autocannon';
  const module = (await import(specifier)) as { default: Autocannon };
  return module.default;
}
