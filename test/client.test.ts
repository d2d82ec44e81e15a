/**
 * chatstore/client's own behaviour, against the app in process through an injected `fetch` (no
 * sockets): the error envelope as ChatStoreError, retries under one Idempotency-Key, network
 * failures, the streamed export, the API key. The conformance suite runs the whole API through it
 * against the Node server (entry `client→node/sqlite`).
 */
import { describe, expect, onTestFinished, test } from 'vitest';
import { memoryBackend } from '../src/backends/memory/index.js';
import { chatStoreClient, type FetchFunction } from '../src/client/index.js';
import { ChatStoreError, type ErrorCode } from '../src/errors.js';
import type { NewMessage } from '../src/model.js';
import { type AppOptions, createApp } from '../src/server/app.js';
import { ChatStore } from '../src/store.js';

const T0 = '2026-01-02T03:04:05.678Z';
const KEY = 'client-test-key-0123456789';

/** A store served by the app; `fetch` calls the app as a loopback client would. */
function served(options: AppOptions = {}): { store: ChatStore; fetch: FetchFunction; requests: Request[] } {
  const store = new ChatStore(memoryBackend(), { now: () => new Date(T0) });
  onTestFinished(() => store.close());
  const app = createApp(store, options);
  const requests: Request[] = [];
  const fetch: FetchFunction = async (input, init) => {
    const request = new Request(input, init);
    requests.push(request.clone());
    return app.fetch(request, { remoteAddress: '127.0.0.1' });
  };
  return { store, fetch, requests };
}

async function failure(action: Promise<unknown>): Promise<ChatStoreError> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ChatStoreError);
  return error as ChatStoreError;
}

const codeAndPath = (error: ChatStoreError): { code: ErrorCode; path: string | undefined } => ({
  code: error.code,
  path: error.path,
});

const unavailable = (message: string): Response =>
  Response.json({ error: { code: 'UNAVAILABLE', message, requestId: 'r' } }, { status: 503 });

describe('chatStoreClient', () => {
  test('the error envelope becomes the ChatStoreError the store threw, code and path', async () => {
    const { fetch } = served();
    const client = chatStoreClient({ url: 'http://localhost', fetch, retryDelayMs: 1 });
    const badField = await failure(client.append('c1', { role: 'user', content: 7 } as unknown as NewMessage));
    expect(codeAndPath(badField)).toStrictEqual({ code: 'INVALID_ARGUMENT', path: 'message.content' });
    const inBatch = await failure(client.append('c1', [{ role: 'user' }, { role: 'robot' } as unknown as NewMessage]));
    expect(codeAndPath(inBatch)).toStrictEqual({ code: 'INVALID_ARGUMENT', path: 'messages[1].role' });
    expect(codeAndPath(await failure(client.edit('nope', { content: 'x' })))).toStrictEqual({
      code: 'NOT_FOUND',
      path: undefined,
    });
    await client.createConversation('g1');
    expect((await failure(client.createConversation('g1'))).code).toBe('CONFLICT');
    // 501: this store has no archive.
    expect((await failure(client.archive({ dryRun: true }))).code).toBe('UNSUPPORTED');
    // "None" stays a result, as on the store: undefined and false, not NOT_FOUND.
    expect(await client.get('nope')).toBeUndefined();
    expect(await client.getConversation('nope')).toBeUndefined();
    expect(await client.delete('nope')).toBe(false);
  });

  test('a 503 is retried with the same Idempotency-Key and the same message ids; one message is stored', async () => {
    const { store, fetch } = served();
    const keys: (string | null)[] = [];
    const bodies: string[] = [];
    let calls = 0;
    const flaky: FetchFunction = async (input, init) => {
      const request = new Request(input, init);
      keys.push(request.headers.get('idempotency-key'));
      bodies.push(await request.clone().text());
      calls++;
      if (calls === 1) return unavailable('the engine is restarting');
      return fetch(request);
    };
    const client = chatStoreClient({ url: 'http://localhost', fetch: flaky, retryDelayMs: 1, newId: () => 'n1' });
    const [result] = await client.append('c1', { role: 'user', content: 'hello' });
    expect(result).toStrictEqual({ message: await store.get('n1'), duplicate: false });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(bodies[1]).toBe(bodies[0]);
    expect((await store.stats()).total).toBe(1);
  });

  test('an answer lost after the server stored the batch: the retry stores nothing twice', async () => {
    const { store, fetch } = served();
    let calls = 0;
    const lossy: FetchFunction = async (input, init) => {
      calls++;
      const response = await fetch(input, init);
      if (calls === 1) throw new TypeError('fetch failed: socket hang up');
      return response;
    };
    let next = 0;
    const client = chatStoreClient({
      url: 'http://localhost',
      fetch: lossy,
      retryDelayMs: 1,
      newId: () => `b${++next}`,
    });
    const results = await client.append('c1', [
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'two' },
    ]);
    expect(calls).toBe(2);
    expect(results.map((r) => [r.message.id, r.message.seq, r.duplicate])).toStrictEqual([
      ['b1', 1, true],
      ['b2', 2, true],
    ]);
    expect((await store.recent('c1')).map((m) => m.content)).toStrictEqual(['one', 'two']);
  });

  test('a network that stays down is UNAVAILABLE after the retries; so is a timeout; a closed client too', async () => {
    let attempts = 0;
    const down: FetchFunction = async () => {
      attempts++;
      throw new TypeError('fetch failed: ECONNREFUSED');
    };
    const client = chatStoreClient({ url: 'http://localhost', fetch: down, retries: 3, retryDelayMs: 1 });
    const error = await failure(client.recent('c1'));
    expect([error.code, attempts]).toStrictEqual(['UNAVAILABLE', 4]);
    expect(error.message).toMatch(/ECONNREFUSED/);

    const silent: FetchFunction = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const slow = chatStoreClient({ url: 'http://localhost', fetch: silent, retries: 0, timeoutMs: 5 });
    expect((await failure(slow.stats())).code).toBe('UNAVAILABLE');

    // Not retried: a write whose second attempt could answer differently.
    attempts = 0;
    expect((await failure(client.createConversation('g'))).code).toBe('UNAVAILABLE');
    expect(attempts).toBe(1);

    const { fetch } = served();
    const closing = chatStoreClient({ url: 'http://localhost', fetch });
    await closing.close();
    expect(codeAndPath(await failure(closing.stats()))).toStrictEqual({ code: 'UNAVAILABLE', path: undefined });
  });

  test('export streams many messages in order; exportRecords gives the conversation lines too', async () => {
    const { store, fetch } = served();
    for (let batch = 0; batch < 5; batch++) {
      await store.append(
        'c1',
        Array.from({ length: 500 }, (_, i) => ({ role: 'user' as const, content: `m${batch * 500 + i + 1}` })),
      );
    }
    const client = chatStoreClient({ url: 'http://localhost', fetch });
    let count = 0;
    for await (const message of client.export({ conversationId: 'c1' })) {
      count++;
      expect([message.seq, message.content]).toStrictEqual([count, `m${count}`]);
    }
    expect(count).toBe(2500);
    const direct = [];
    for await (const record of store.exportRecords()) direct.push(record);
    const remote = [];
    for await (const record of client.exportRecords()) remote.push(record);
    expect(remote).toStrictEqual(direct);
  });

  test('export yields each line as it arrives, before the body has ended', async () => {
    let more: (() => void) | undefined;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('{"id":"a","seq":1}\n{"id":"b",'));
        more = () => {
          controller.enqueue(encoder.encode('"seq":2}\n'));
          controller.close();
        };
      },
    });
    const fetch: FetchFunction = async () =>
      new Response(body, { headers: { 'content-type': 'application/x-ndjson' } });
    const client = chatStoreClient({ url: 'http://localhost', fetch });
    const iterator = client.export()[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toStrictEqual({ id: 'a', seq: 1 });
    more?.();
    expect((await iterator.next()).value).toStrictEqual({ id: 'b', seq: 2 });
    expect((await iterator.next()).done).toBe(true);
  });

  test('the API key goes as Authorization: Bearer; without it the server refuses', async () => {
    const { fetch, requests } = served({ apiKeys: [{ key: KEY, scopes: ['read', 'write'] }] });
    const client = chatStoreClient({ url: 'http://localhost', apiKey: KEY, fetch });
    await client.append('c1', { role: 'user', content: 'hi' });
    expect((await client.recent('c1')).map((m) => m.content)).toStrictEqual(['hi']);
    expect(requests.map((r) => r.headers.get('authorization'))).toStrictEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    const anonymous = chatStoreClient({ url: 'http://localhost', fetch, retries: 0 });
    const refused = await failure(anonymous.recent('c1'));
    expect(refused.code).toBe('UNAVAILABLE');
    expect(refused.cause).toMatchObject({ status: 401, error: { code: 'UNAUTHENTICATED' } });
  });

  test('cursors pass through opaque; times and flags become the query the server takes', async () => {
    const { store, fetch, requests } = served();
    await store.append(
      'c1',
      Array.from({ length: 5 }, (_, i) => ({ role: 'user' as const, content: `m${i + 1}` })),
    );
    const client = chatStoreClient({ url: 'http://localhost/', fetch });
    const first = await client.list('c1', { limit: 2, order: 'desc', from: new Date(0), includeDeleted: true });
    expect(first).toStrictEqual(
      await store.list('c1', { limit: 2, order: 'desc', from: new Date(0), includeDeleted: true }),
    );
    const second = await client.list('c1', {
      limit: 2,
      order: 'desc',
      from: new Date(0),
      includeDeleted: true,
      cursor: first.next as string,
    });
    expect(second.messages.map((m) => m.seq)).toStrictEqual([3, 2]);
    expect(new URL(requests[1]?.url as string).searchParams.get('cursor')).toBe(first.next);
    expect(new URL(requests[0]?.url as string).search).toBe(
      '?limit=2&order=desc&from=1970-01-01T00%3A00%3A00.000Z&includeDeleted=true',
    );
  });
});
