/** Shared helpers of the HTTP tests: an app over a fresh memory store with a stopped clock, and a caller. */
import { onTestFinished } from 'vitest';
import type { Backend } from '../../src/backend.js';
import { memoryBackend } from '../../src/backends/memory/index.js';
import type { Message } from '../../src/model.js';
import { type AppOptions, createApp } from '../../src/server/app.js';
import type { ServerBindings } from '../../src/server/env.js';
import type { RequestLogger } from '../../src/server/logger.js';
import { ChatStore, type ChatStoreOptions } from '../../src/store.js';

/** The instant of the stopped clock, as the store returns it. */
export const T0 = '2026-01-02T03:04:05.678Z';
/** The request id every call sends, so error envelopes are whole objects. */
export const REQUEST_ID = 'test-request-1';

export const READ_KEY = 'read-key-0123456789abcdef';
export const WRITE_KEY = 'write-key-0123456789abcdef';
export const READ_WRITE_KEY = 'read-write-key-0123456789';
export const ADMIN_KEY = 'admin-key-0123456789abcdef';
/** Keys with every scope combination the tests need. */
export const API_KEYS: AppOptions['apiKeys'] = [
  { key: READ_KEY, scopes: ['read'] },
  { key: WRITE_KEY, scopes: ['write'] },
  { key: READ_WRITE_KEY, scopes: ['read', 'write'] },
  { key: ADMIN_KEY, scopes: ['admin'] },
];

export interface CallOptions {
  body?: unknown;
  /** Sent as is (no JSON encoding, no content type). */
  rawBody?: string | ReadableStream<Uint8Array>;
  /** Extra request headers; `host` defaults to `localhost`. */
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  /** The client address the edge reports; default loopback. `null` sends no bindings at all. */
  remoteAddress?: string | null;
}

export interface CallResult {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests assert response JSON whole or by field path
  body: any;
  text: string;
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  store: ChatStore;
  logs: { level: string; fields: object; message?: string }[];
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** Appends through the store directly (arrange steps that are not under test). */
  seed(conversationId: string, count: number, from?: number): Promise<Message[]>;
}

/**
 * An app over a fresh memory store (or `backend`), closed when the test finishes. Message ids are
 * `m1`, `m2`, … and the clock is stopped at T0, so responses can be asserted whole.
 */
export function testApp(
  options: AppOptions | ((store: ChatStore) => AppOptions) = {},
  setup: { backend?: Backend; store?: ChatStoreOptions } = {},
): TestApp {
  let next = 0;
  const store = new ChatStore(setup.backend ?? memoryBackend(), {
    now: () => new Date(T0),
    newId: () => `m${++next}`,
    ...setup.store,
  });
  onTestFinished(() => store.close());
  const logs: TestApp['logs'] = [];
  const logger: RequestLogger = {
    info: (fields, message) => logs.push({ level: 'info', fields, ...(message === undefined ? {} : { message }) }),
    warn: (fields, message) => logs.push({ level: 'warn', fields, ...(message === undefined ? {} : { message }) }),
    error: (fields, message) => logs.push({ level: 'error', fields, ...(message === undefined ? {} : { message }) }),
  };
  const app = createApp(store, { logger, ...(typeof options === 'function' ? options(store) : options) });
  return {
    app,
    store,
    logs,
    async call(method, path, call = {}) {
      // A browser or curl names the host it called; keyless servers answer loopback names only.
      const headers: Record<string, string> = { host: 'localhost', 'x-request-id': REQUEST_ID };
      if (call.body !== undefined) headers['content-type'] = 'application/json';
      if (call.key !== undefined) headers.authorization = `Bearer ${call.key}`;
      Object.assign(headers, call.headers);
      const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
      const bindings: ServerBindings | undefined =
        call.remoteAddress === null ? undefined : { remoteAddress: call.remoteAddress ?? '127.0.0.1' };
      const init: RequestInit & { duplex?: 'half' } = { method, headers };
      if (body !== undefined) init.body = body;
      if (body instanceof ReadableStream) init.duplex = 'half';
      const response = await app.request(path, init, bindings);
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    async seed(conversationId, count, from = 1) {
      const messages: Message[] = [];
      for (let start = 0; start < count; start += 500) {
        const results = await store.append(
          conversationId,
          Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
            role: (start + i) % 2 === 0 ? ('user' as const) : ('assistant' as const),
            content: `message ${from + start + i}`,
          })),
        );
        messages.push(...results.map((result) => result.message));
      }
      return messages;
    },
  };
}

/** The error envelope for the test request id; `message` may be an asymmetric matcher. */
export function envelope(code: string, message: unknown, extra: object = {}): object {
  return { error: { code, message, ...extra, requestId: REQUEST_ID } };
}
