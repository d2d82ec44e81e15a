/** Message routes through app.request(): append with idempotency, reads, edits, deletes, status. */
import { describe, expect, test } from 'vitest';
import type { JsonValue, Message } from '../../src/model.js';
import { envelope, T0, testApp } from './helpers.js';

const base = (id: string, seq: number, content: string, extra: Partial<Message> = {}): Message => ({
  id,
  conversationId: 'c1',
  seq,
  role: 'user',
  direction: 'incoming',
  content,
  createdAt: T0,
  ...extra,
});

describe('POST /v1/conversations/:id/messages', () => {
  test('a single message is stored: 201, the result, a Location header', async () => {
    const { call } = testApp();
    const res = await call('POST', '/v1/conversations/c1/messages', { body: { role: 'user', content: 'hi' } });
    expect(res.status).toBe(201);
    expect(res.body).toStrictEqual({ message: base('m1', 1, 'hi'), duplicate: false });
    expect(res.headers.get('location')).toBe('/v1/messages/m1');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('the Idempotency-Key becomes the id; a retry is a duplicate with 200 and stores nothing', async () => {
    const { call, store } = testApp();
    const send = () =>
      call('POST', '/v1/conversations/c1/messages', {
        body: { role: 'user', content: 'hi' },
        headers: { 'idempotency-key': 'evt_1' },
      });
    const first = await send();
    const retry = await send();
    expect(first.status).toBe(201);
    expect(first.body).toStrictEqual({ message: base('evt_1', 1, 'hi'), duplicate: false });
    expect(retry.status).toBe(200);
    expect(retry.body).toStrictEqual({ message: base('evt_1', 1, 'hi'), duplicate: true });
    expect(retry.headers.get('location')).toBeNull();
    expect(await store.recent('c1', 10)).toStrictEqual([base('evt_1', 1, 'hi')]);
  });

  test('in a batch the key gives ids <key>:<index>; an id in the body wins over the key', async () => {
    const { call } = testApp();
    const body = {
      messages: [
        { role: 'user', content: 'a' },
        { id: 'own', role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
    };
    const res = await call('POST', '/v1/conversations/c1/messages', { body, headers: { 'idempotency-key': 'k' } });
    expect(res.status).toBe(201);
    expect(res.body).toStrictEqual({
      results: [
        { message: base('k:0', 1, 'a'), duplicate: false },
        { message: base('own', 2, 'b', { role: 'assistant', direction: 'outgoing' }), duplicate: false },
        { message: base('k:2', 3, 'c'), duplicate: false },
      ],
    });
    const retry = await call('POST', '/v1/conversations/c1/messages', { body, headers: { 'idempotency-key': 'k' } });
    expect(retry.status).toBe(200);
    expect(retry.body.results.map((r: { duplicate: boolean }) => r.duplicate)).toStrictEqual([true, true, true]);
  });

  test('a batch with one new message among duplicates is 201', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/c1/messages', { body: { externalId: 'w1', role: 'user', content: 'a' } });
    const res = await call('POST', '/v1/conversations/c1/messages', {
      body: {
        messages: [
          { externalId: 'w1', role: 'user', content: 'a' },
          { externalId: 'w2', role: 'user', content: 'b' },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.results.map((r: { duplicate: boolean; message: Message }) => [r.message.seq, r.duplicate])).toEqual(
      [
        [1, true],
        [2, false],
      ],
    );
  });

  test('expectedLastSeq (body or query) conflicts with 409 and stores nothing', async () => {
    const { call, seed, store } = testApp();
    await seed('c1', 2);
    const inBody = await call('POST', '/v1/conversations/c1/messages', {
      body: { messages: [{ role: 'user', content: 'x' }], expectedLastSeq: 1 },
    });
    const inQuery = await call('POST', '/v1/conversations/c1/messages?expectedLastSeq=1', {
      body: { role: 'user', content: 'x' },
    });
    const conflict = envelope('CONFLICT', 'conversation c1 is at seq 2, not the expected 1');
    expect([inBody.status, inBody.body]).toStrictEqual([409, conflict]);
    expect([inQuery.status, inQuery.body]).toStrictEqual([409, conflict]);
    const ok = await call('POST', '/v1/conversations/c1/messages?expectedLastSeq=2', {
      body: { role: 'user', content: 'x' },
    });
    expect(ok.status).toBe(201);
    expect((await store.getConversation('c1'))?.lastSeq).toBe(3);
  });

  test('a batch can carry the attributes of the conversation it creates', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/g1/messages', {
      body: {
        messages: [{ role: 'user', content: 'hi', senderId: 'u1' }],
        conversation: { type: 'group', title: 'Ops', participants: [{ id: 'bot', kind: 'bot' }] },
      },
    });
    const res = await call('GET', '/v1/conversations/g1');
    expect(res.body).toMatchObject({ id: 'g1', type: 'group', title: 'Ops' });
    expect(res.body.participants.map((p: { id: string }) => p.id).sort()).toEqual(['bot', 'u1']);
  });

  test('a key reused with the same payload, as the store normalizes it, is a duplicate as before', async () => {
    const { call, store } = testApp();
    const headers = { 'idempotency-key': 'evt_2' };
    const body = {
      role: 'user',
      content: 'hi',
      senderId: 'u1',
      metadata: { a: 1, b: { c: [1, 2] } },
      createdAt: '2026-01-01T10:00:00+02:00',
    };
    expect((await call('POST', '/v1/conversations/c1/messages', { body, headers })).status).toBe(201);
    // Defaults spelled out, another spelling of the same instant, keys in another order, a later status.
    const same = {
      direction: 'incoming',
      content: 'hi',
      metadata: { b: { c: [1, 2] }, a: 1 },
      senderId: 'u1',
      createdAt: '2026-01-01T08:00:00Z',
      media: [],
      status: 'read',
    };
    const retry = await call('POST', '/v1/conversations/c1/messages', { body: same, headers });
    expect([retry.status, retry.body.duplicate, retry.body.message.id]).toStrictEqual([200, true, 'evt_2']);
    expect(await store.recent('c1', 10)).toHaveLength(1);
  });

  test.each([
    ['content', { role: 'user', content: 'bye' }],
    ['role', { role: 'assistant', content: 'hi' }],
    ['direction', { direction: 'outgoing', role: 'user', content: 'hi' }],
    ['senderId', { role: 'user', content: 'hi', senderId: 'u2' }],
    ['recipientId', { role: 'user', content: 'hi', recipientId: 'bot' }],
    ['parts', { role: 'user', content: 'hi', parts: [{ type: 'text', text: 'hi' }] }],
    ['media', { role: 'user', content: 'hi', media: [{ url: 'https://x.example/a.png', type: 'image' }] }],
    ['metadata', { role: 'user', content: 'hi', metadata: { a: 2 } }],
    ['replyTo', { role: 'user', content: 'hi', replyTo: 'm0' }],
    ['externalId', { role: 'user', content: 'hi', externalId: 'wamid.X' }],
    ['createdAt', { role: 'user', content: 'hi', createdAt: '2026-01-01T00:00:00Z' }],
  ])('a key reused with another %s is 422 and stores nothing', async (field, body) => {
    const { call, store } = testApp();
    const headers = { 'idempotency-key': 'evt_3' };
    const first = await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'user', content: 'hi', metadata: { a: 1 } },
      headers,
    });
    expect(first.status).toBe(201);
    const before = await store.recent('c1', 10);
    const reused = await call('POST', '/v1/conversations/c1/messages', {
      body: field === 'metadata' ? body : { ...body, metadata: { a: 1 } },
      headers,
    });
    expect([reused.status, reused.body]).toStrictEqual([
      422,
      envelope(
        'CONFLICT',
        `Idempotency-Key evt_3 was used for another payload (${field} differs from the stored message evt_3); send a new key for a new message`,
        { path: 'idempotency-key' },
      ),
    ]);
    expect(await store.recent('c1', 10)).toStrictEqual(before);
    expect((await store.getConversation('c1'))?.lastSeq).toBe(1);
  });

  test('a batch under a used key must repeat the batch: a changed or added message is 422, and nothing of it is stored', async () => {
    const { call, store } = testApp();
    const headers = { 'idempotency-key': 'batch_1' };
    const messages = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
    ];
    expect((await call('POST', '/v1/conversations/c1/messages', { body: { messages }, headers })).status).toBe(201);
    const same = await call('POST', '/v1/conversations/c1/messages', { body: { messages }, headers });
    expect([same.status, same.body.results.map((r: { duplicate: boolean }) => r.duplicate)]).toStrictEqual([
      200,
      [true, true],
    ]);
    const changed = await call('POST', '/v1/conversations/c1/messages', {
      body: { messages: [messages[0], { role: 'assistant', content: 'B' }] },
      headers,
    });
    expect([changed.status, changed.body.error.code, changed.body.error.message]).toStrictEqual([
      422,
      'CONFLICT',
      'Idempotency-Key batch_1 was used for another payload (content differs from the stored message batch_1:1); send a new key for a new message',
    ]);
    const added = await call('POST', '/v1/conversations/c1/messages', {
      body: { messages: [...messages, { role: 'user', content: 'c' }] },
      headers,
    });
    expect([added.status, added.body.error.code, added.body.error.message]).toStrictEqual([
      422,
      'CONFLICT',
      'Idempotency-Key batch_1 was used for another payload (message batch_1:2 is not stored); send a new key for a new message',
    ]);
    expect((await store.recent('c1', 10)).map((m) => [m.id, m.content])).toStrictEqual([
      ['batch_1:0', 'a'],
      ['batch_1:1', 'b'],
    ]);
  });

  test('a key reused in another conversation is a conflict, since message ids are global', async () => {
    const { call } = testApp();
    const headers = { 'idempotency-key': 'evt_9' };
    await call('POST', '/v1/conversations/c1/messages', { body: { role: 'user', content: 'a' }, headers });
    const res = await call('POST', '/v1/conversations/c2/messages', { body: { role: 'user', content: 'a' }, headers });
    expect([res.status, res.body]).toStrictEqual([
      409,
      envelope('CONFLICT', 'message id evt_9 is already used in another conversation'),
    ]);
  });

  test.each([
    [
      'a bad role in a batch names the batch path',
      { messages: [{ role: 'user' }, { role: 'robot' }] },
      'messages[1].role',
    ],
    ['a bad role in a single message', { role: 'robot', content: 'x' }, 'role'],
    ['an unknown field', { role: 'user', contents: 'x' }, 'contents'],
    ['a wrongly typed field', { role: 'user', content: 42 }, 'content'],
    ['an unknown batch field', { messages: [{ role: 'user' }], expected: 1 }, 'expected'],
  ])('%s: 400 with the field path', async (_, body, path) => {
    const { call, store } = testApp();
    const res = await call('POST', '/v1/conversations/c1/messages', { body });
    expect(res.status).toBe(400);
    expect(res.body).toStrictEqual(
      envelope('INVALID_ARGUMENT', expect.stringMatching(`^${path.replace(/[[\]]/g, '\\$&')}: `), { path }),
    );
    expect(await store.getConversation('c1')).toBeUndefined();
  });

  test('every failing field is listed in issues', async () => {
    const { call } = testApp();
    const res = await call('POST', '/v1/conversations/c1/messages', { body: { role: 'robot', content: 1 } });
    expect(res.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['role', 'content']);
  });

  test.each([
    ['the store’s own limits', { role: 'user', content: 'x'.repeat(64 * 1024 + 1) }, 'message.content'],
    ['a message with neither role nor direction', { content: 'x' }, 'message'],
    ['an empty batch', { messages: [] }, 'messages'],
    ['a time without a zone', { role: 'user', createdAt: '2026-01-01 10:00' }, 'message.createdAt'],
  ])('%s: 400 from the store, with its path', async (_, body, path) => {
    const { call } = testApp();
    const res = await call('POST', '/v1/conversations/c1/messages', { body });
    expect([res.status, res.body.error.code, res.body.error.path]).toStrictEqual([400, 'INVALID_ARGUMENT', path]);
  });

  test('an Idempotency-Key with spaces is rejected', async () => {
    const { call } = testApp();
    const res = await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'user', content: 'x' },
      headers: { 'idempotency-key': 'a b' },
    });
    expect([res.status, res.body.error.path]).toStrictEqual([400, 'idempotency-key']);
  });
});

describe('reading messages', () => {
  test('list pages with a cursor in both directions', async () => {
    const { call, seed } = testApp();
    const all = await seed('c1', 5);
    const first = await call('GET', '/v1/conversations/c1/messages?limit=2');
    expect(first.status).toBe(200);
    expect(first.body).toStrictEqual({ messages: all.slice(0, 2), next: expect.any(String) });
    const second = await call('GET', `/v1/conversations/c1/messages?limit=2&cursor=${first.body.next}`);
    const third = await call('GET', `/v1/conversations/c1/messages?limit=2&cursor=${second.body.next}`);
    expect(second.body).toStrictEqual({ messages: all.slice(2, 4), next: expect.any(String) });
    expect(third.body).toStrictEqual({ messages: all.slice(4) });

    const newest = await call('GET', '/v1/conversations/c1/messages?order=desc&limit=3');
    expect(newest.body).toStrictEqual({ messages: all.slice(2).reverse(), next: expect.any(String) });
    const older = await call('GET', `/v1/conversations/c1/messages?order=desc&limit=3&cursor=${newest.body.next}`);
    expect(older.body).toStrictEqual({ messages: all.slice(0, 2).reverse() });

    const window = await call('GET', '/v1/conversations/c1/messages?after=1&before=4');
    expect(window.body).toStrictEqual({ messages: all.slice(1, 3) });
  });

  test('list hides soft-deleted messages unless includeDeleted=true', async () => {
    const { call, seed, store } = testApp();
    const [a, b] = await seed('c1', 2);
    await store.delete((a as Message).id);
    expect((await call('GET', '/v1/conversations/c1/messages')).body).toStrictEqual({ messages: [b] });
    const all = await call('GET', '/v1/conversations/c1/messages?includeDeleted=true');
    expect(all.body).toStrictEqual({ messages: [{ ...a, deletedAt: T0 }, b] });
  });

  test.each([
    ['/v1/conversations/c1/messages?limit=0', 'limit'],
    ['/v1/conversations/c1/messages?limit=5000', 'limit'],
    ['/v1/conversations/c1/messages?order=sideways', 'order'],
    ['/v1/conversations/c1/messages?cursor=bogus', 'cursor'],
    ['/v1/conversations/c1/messages?includeDeleted=yes', 'includeDeleted'],
    ['/v1/conversations/c1/messages?from=yesterday', 'from'],
    ['/v1/conversations/c1/messages/recent?n=x', 'n'],
    ['/v1/conversations/c1/messages/around', 'seq'],
    ['/v1/conversations/c1/messages/around?seq=1&messageId=m1', 'seq'],
    ['/v1/conversations/c1/context?maxTokens=-1', 'maxTokens'],
  ])('GET %s is 400 at %s', async (path, field) => {
    const { call, seed } = testApp();
    await seed('c1', 2);
    const res = await call('GET', path);
    expect([res.status, res.body.error.code, res.body.error.path]).toStrictEqual([400, 'INVALID_ARGUMENT', field]);
  });

  test('recent returns the last n, oldest first', async () => {
    const { call, seed } = testApp();
    const all = await seed('c1', 30);
    expect((await call('GET', '/v1/conversations/c1/messages/recent?n=3')).body).toStrictEqual({
      messages: all.slice(27),
    });
    expect((await call('GET', '/v1/conversations/c1/messages/recent')).body).toStrictEqual({ messages: all.slice(10) });
    expect((await call('GET', '/v1/conversations/nobody/messages/recent')).body).toStrictEqual({ messages: [] });
  });

  test('around by seq or by message id', async () => {
    const { call, seed } = testApp();
    const all = await seed('c1', 10);
    const bySeq = await call('GET', '/v1/conversations/c1/messages/around?seq=5&before=2&after=1');
    expect(bySeq.body).toStrictEqual({ messages: all.slice(2, 6) });
    const byId = await call('GET', '/v1/conversations/c1/messages/around?messageId=m5&before=1&after=1');
    expect(byId.body).toStrictEqual({ messages: all.slice(3, 6) });
    const missing = await call('GET', '/v1/conversations/c1/messages/around?messageId=nope');
    expect([missing.status, missing.body]).toStrictEqual([
      404,
      envelope('NOT_FOUND', 'message nope not found in conversation c1'),
    ]);
  });

  test('the context window fits the budgets, oldest first, as role and content', async () => {
    const { call, seed } = testApp();
    await seed('c1', 6);
    const res = await call('GET', '/v1/conversations/c1/context?maxMessages=3');
    expect(res.body).toStrictEqual({
      messages: [
        { role: 'assistant', content: 'message 4' },
        { role: 'user', content: 'message 5' },
        { role: 'assistant', content: 'message 6' },
      ],
    });
    // "message 6" costs ceil(9 / 4) + 4 = 7 tokens
    const tight = await call('GET', '/v1/conversations/c1/context?maxTokens=14');
    expect(tight.body.messages).toHaveLength(2);
  });

  test('get by id and by external id, with 404s', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'user', content: 'a', externalId: 'wamid.1' },
    });
    await call('POST', '/v1/conversations/c2/messages', {
      body: { role: 'user', content: 'b', externalId: 'wamid.1' },
    });
    const message = base('m1', 1, 'a', { externalId: 'wamid.1' });
    expect((await call('GET', '/v1/messages/m1')).body).toStrictEqual(message);
    expect((await call('GET', '/v1/messages-by-external-id/wamid.1')).body).toStrictEqual(message);
    expect((await call('GET', '/v1/messages-by-external-id/wamid.1?conversationId=c2')).body).toStrictEqual({
      ...message,
      id: 'm2',
      conversationId: 'c2',
      content: 'b',
    });
    const missing = await call('GET', '/v1/messages/nope');
    expect([missing.status, missing.body]).toStrictEqual([404, envelope('NOT_FOUND', 'message nope not found')]);
    const missingExternal = await call('GET', '/v1/messages-by-external-id/wamid.1?conversationId=c3');
    expect([missingExternal.status, missingExternal.body]).toStrictEqual([
      404,
      envelope('NOT_FOUND', 'message with external id wamid.1 not found'),
    ]);
  });

  test('the deprecated path /v1/messages/by-external-id/{externalId} answers as before', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'user', content: 'a', externalId: 'wamid.1' },
    });
    const found = await call('GET', '/v1/messages/by-external-id/wamid.1?conversationId=c1');
    expect([found.status, found.body]).toStrictEqual([200, base('m1', 1, 'a', { externalId: 'wamid.1' })]);
    const missing = await call('GET', '/v1/messages/by-external-id/wamid.1?conversationId=c2');
    expect([missing.status, missing.body]).toStrictEqual([
      404,
      envelope('NOT_FOUND', 'message with external id wamid.1 not found'),
    ]);
  });

  test('ids with reserved characters travel percent-encoded', async () => {
    const { call } = testApp();
    const conversation = '+1 555/0001';
    const res = await call('POST', `/v1/conversations/${encodeURIComponent(conversation)}/messages`, {
      body: { role: 'user', content: 'x', externalId: 'chat:42' },
    });
    expect(res.body.message.conversationId).toBe(conversation);
    const recent = await call('GET', `/v1/conversations/${encodeURIComponent(conversation)}/messages/recent`);
    expect(recent.body.messages).toHaveLength(1);
    const byExternal = await call('GET', `/v1/messages-by-external-id/${encodeURIComponent('chat:42')}`);
    expect(byExternal.body.conversationId).toBe(conversation);
  });
});

describe('changing messages', () => {
  test('edit replaces content and merges metadata', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'user', content: 'teh', metadata: { a: 1, b: 2 } },
    });
    const res = await call('PATCH', '/v1/messages/m1', { body: { content: 'the', metadata: { b: null, c: 3 } } });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual(base('m1', 1, 'the', { metadata: { a: 1, c: 3 }, editedAt: T0 }));
  });

  test('edit replaces parts whole, with the content when given; bad parts change nothing', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'user', content: 'hola', parts: [{ type: 'text', text: 'hola' }] },
    });
    const parts: JsonValue[] = [
      { type: 'text', text: 'hola, ' },
      { type: 'file', mediaType: 'image/png', url: 'https://x.test/a.png' },
    ];
    const res = await call('PATCH', '/v1/messages/m1', { body: { content: 'hola, ', parts } });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual(base('m1', 1, 'hola, ', { parts, editedAt: T0 }));
    const bad = await call('PATCH', '/v1/messages/m1', { body: { content: 'lost', parts: [{ n: 1 }, 'a\u0000'] } });
    expect([bad.status, bad.body.error.code, bad.body.error.path]).toStrictEqual([400, 'INVALID_ARGUMENT', 'parts[1]']);
    const notArray = await call('PATCH', '/v1/messages/m1', { body: { parts: { type: 'text' } } });
    expect([notArray.status, notArray.body.error.path]).toStrictEqual([400, 'parts']);
    expect((await call('GET', '/v1/messages/m1')).body).toStrictEqual(res.body);
  });

  test('edit errors: nothing to change, unknown message, unknown field', async () => {
    const { call, seed } = testApp();
    await seed('c1', 1);
    const empty = await call('PATCH', '/v1/messages/m1', { body: {} });
    expect([empty.status, empty.body.error.path]).toStrictEqual([400, 'changes']);
    const missing = await call('PATCH', '/v1/messages/nope', { body: { content: 'x' } });
    expect([missing.status, missing.body]).toStrictEqual([404, envelope('NOT_FOUND', 'message nope not found')]);
    const unknown = await call('PATCH', '/v1/messages/m1', { body: { role: 'user' } });
    expect([unknown.status, unknown.body.error.path]).toStrictEqual([400, 'role']);
  });

  test('soft delete hides, hard delete removes, a missing message is 404', async () => {
    const { call, seed } = testApp();
    const [a, b] = await seed('c1', 2);
    const soft = await call('DELETE', '/v1/messages/m1');
    expect([soft.status, soft.body]).toStrictEqual([200, { deleted: true, hard: false }]);
    expect((await call('GET', '/v1/messages/m1')).body).toStrictEqual({ ...a, deletedAt: T0 });
    expect((await call('GET', '/v1/conversations/c1/messages/recent')).body).toStrictEqual({ messages: [b] });

    const hard = await call('DELETE', '/v1/messages/m2?hard=true');
    expect([hard.status, hard.body]).toStrictEqual([200, { deleted: true, hard: true }]);
    expect((await call('GET', '/v1/messages/m2')).status).toBe(404);
    const again = await call('DELETE', '/v1/messages/m2?hard=true');
    expect([again.status, again.body]).toStrictEqual([404, envelope('NOT_FOUND', 'message m2 not found')]);
  });

  test('status moves forward only, by id or external id', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'assistant', content: 'hi', externalId: 'wamid.9', status: 'sent' },
    });
    const read = await call('POST', '/v1/messages/wamid.9/status', {
      body: { status: 'read', at: '2026-01-02T03:05:00Z' },
    });
    expect(read.status).toBe(200);
    expect(read.body).toStrictEqual(
      base('m1', 1, 'hi', {
        role: 'assistant',
        direction: 'outgoing',
        externalId: 'wamid.9',
        status: 'read',
        statusAt: { sent: T0, read: '2026-01-02T03:05:00.000Z' },
      }),
    );
    const late = await call('POST', '/v1/messages/m1/status', { body: { status: 'delivered', at: 1767323000000 } });
    expect(late.body.status).toBe('read');
    expect(late.body.statusAt.delivered).toBe('2026-01-02T03:03:20.000Z');
  });

  test('status errors: unknown status, unknown message', async () => {
    const { call, seed } = testApp();
    await seed('c1', 1);
    const bad = await call('POST', '/v1/messages/m1/status', { body: { status: 'seen' } });
    expect([bad.status, bad.body.error.path]).toStrictEqual([400, 'status']);
    const missing = await call('POST', '/v1/messages/nope/status', { body: { status: 'read' } });
    expect([missing.status, missing.body]).toStrictEqual([404, envelope('NOT_FOUND', 'message nope not found')]);
  });
});
