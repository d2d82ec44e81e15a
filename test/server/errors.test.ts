/** The one error envelope: unknown routes, body limits, media types, malformed JSON, engine failures, bugs. */
import { describe, expect, test } from 'vitest';
import { memoryBackend } from '../../src/backends/memory/index.js';
import { ChatStoreError } from '../../src/errors.js';
import type { ApiErrorBody } from '../../src/server/errors.js';
import { envelope, REQUEST_ID, testApp } from './helpers.js';

describe('the error envelope', () => {
  test('an unknown route is a 404 envelope', async () => {
    const { call } = testApp();
    const res = await call('GET', '/v2/things');
    expect([res.status, res.body]).toStrictEqual([404, envelope('NOT_FOUND', 'no route for GET /v2/things')]);
  });

  test('a body over the limit is 413, by Content-Length or by counting a chunked body', async () => {
    const { call, store } = testApp({ maxBodyBytes: 1000 });
    const body = { role: 'user', content: 'x'.repeat(1000) };
    const declared = await call('POST', '/v1/conversations/c1/messages', { body });
    const tooLarge = envelope('PAYLOAD_TOO_LARGE', 'the request body must be at most 1000 bytes');
    expect([declared.status, declared.body]).toStrictEqual([413, tooLarge]);
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 600));
        controller.enqueue(bytes.slice(600));
        controller.close();
      },
    });
    const streamed = await call('POST', '/v1/conversations/c1/messages', {
      rawBody: chunked,
      headers: { 'content-type': 'application/json' },
    });
    expect([streamed.status, streamed.body]).toStrictEqual([413, tooLarge]);
    expect(await store.getConversation('c1')).toBeUndefined();
    const small = await call('POST', '/v1/conversations/c1/messages', { body: { role: 'user', content: 'ok' } });
    expect(small.status).toBe(201);
  });

  test('a body that is not JSON is 415; malformed JSON is 400; a missing body is 400', async () => {
    const { call } = testApp();
    const text = await call('POST', '/v1/conversations/c1/messages', {
      rawBody: 'role=user',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([text.status, text.body]).toStrictEqual([
      415,
      envelope('UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (Content-Type: application/json)'),
    ]);
    const untyped = await call('POST', '/v1/conversations/c1/messages', { rawBody: '{}' });
    expect(untyped.status).toBe(415);
    const malformed = await call('POST', '/v1/conversations/c1/messages', {
      rawBody: '{"role":',
      headers: { 'content-type': 'application/json' },
    });
    expect([malformed.status, malformed.body]).toStrictEqual([
      400,
      envelope('INVALID_ARGUMENT', 'Malformed JSON in request body'),
    ]);
    const missing = await call('POST', '/v1/conversations/c1/messages', {
      headers: { 'content-type': 'application/json' },
    });
    expect([missing.status, missing.body.error.code]).toStrictEqual([400, 'INVALID_ARGUMENT']);
  });

  test('an unreachable engine is 503 UNAVAILABLE', async () => {
    const { call, store } = testApp();
    await store.close();
    const res = await call('GET', '/v1/conversations/c1/messages/recent');
    expect([res.status, res.body]).toStrictEqual([503, envelope('UNAVAILABLE', 'the store is closed')]);
  });

  test('credentials in store error messages are redacted', async () => {
    const backend = memoryBackend();
    const failing = {
      ...backend,
      stats: async () => {
        throw new ChatStoreError('UNAVAILABLE', 'cannot reach postgres://app:hunter2@db:5432/chat');
      },
    };
    const { call } = testApp({}, { backend: failing });
    const res = await call('GET', '/v1/stats');
    expect([res.status, res.body]).toStrictEqual([
      503,
      envelope('UNAVAILABLE', 'cannot reach postgres://app:***@db:5432/chat'),
    ]);
  });

  test('an unexpected error is a bare 500; the details go to the log with the request id', async () => {
    const backend = memoryBackend();
    const failing = {
      ...backend,
      range: async () => {
        throw new TypeError('driver exploded near postgres://app:hunter2@db/chat');
      },
    };
    const { call, logs } = testApp({}, { backend: failing });
    const res = await call('GET', '/v1/conversations/c1/messages/recent');
    expect([res.status, res.body]).toStrictEqual([
      500,
      envelope('INTERNAL', 'internal error; see the server log for this request id'),
    ]);
    expect(res.text).not.toContain('exploded');
    const failure = logs.find((entry) => entry.level === 'error');
    expect(failure).toStrictEqual({
      level: 'error',
      message: 'request failed',
      fields: {
        requestId: REQUEST_ID,
        method: 'GET',
        err: {
          type: 'TypeError',
          message: 'driver exploded near postgres://app:***@db/chat',
          stack: expect.any(String),
        },
      },
    });
    expect(JSON.stringify(logs)).not.toContain('hunter2');
  });
});

describe('request ids', () => {
  test('a sane X-Request-Id is echoed; a missing or odd one is replaced by a generated one', async () => {
    const { app } = testApp();
    const local = { remoteAddress: '127.0.0.1' };
    const echoed = await app.request(
      '/v2/nothing',
      { headers: { host: 'localhost', 'x-request-id': 'abc-123' } },
      local,
    );
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
    expect(((await echoed.json()) as ApiErrorBody).error.requestId).toBe('abc-123');

    for (const headers of [
      {},
      { 'x-request-id': 'has spaces and <script>' },
      { 'x-request-id': 'x'.repeat(129) },
    ] as Record<string, string>[]) {
      const res = await app.request('/v2/nothing', { headers: { host: 'localhost', ...headers } }, local);
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await res.json()) as ApiErrorBody).error.requestId).toBe(id);
    }
  });
});
