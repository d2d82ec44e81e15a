/** Store-wide routes through app.request(): search, stats, the JSONL export streams, erasure. */
import { describe, expect, test } from 'vitest';
import type { Backend } from '../../src/backend.js';
import { memoryBackend } from '../../src/backends/memory/index.js';
import { ChatStoreError } from '../../src/errors.js';
import type { Message } from '../../src/model.js';
import type { ExportRecord } from '../../src/store.js';
import { ADMIN_KEY, API_KEYS, envelope, READ_KEY, READ_WRITE_KEY, T0, testApp, WRITE_KEY } from './helpers.js';

describe('GET /v1/search', () => {
  test('finds messages with every word, with snippets, filters and a cursor', async () => {
    const { call, store } = testApp();
    await store.append('c1', [
      { role: 'user', content: 'where is my refund', senderId: 'u1' },
      { role: 'assistant', content: 'your refund is on its way' },
      { role: 'user', content: 'thanks' },
    ]);
    await store.append('c2', { role: 'user', content: 'refund please', senderId: 'u2' });

    const all = await call('GET', '/v1/search?q=refund');
    expect(all.status).toBe(200);
    expect(all.body.hits.map((hit: { message: Message }) => hit.message.id).sort()).toEqual(['m1', 'm2', 'm4']);
    expect(all.body.hits[0]).toStrictEqual({
      message: expect.objectContaining({ content: expect.stringContaining('refund') }),
      snippet: expect.stringContaining('<mark>refund</mark>'),
      score: expect.any(Number),
    });
    const both = await call('GET', '/v1/search?q=refund%20way');
    expect(both.body.hits.map((hit: { message: Message }) => hit.message.id)).toEqual(['m2']);
    const inC2 = await call('GET', '/v1/search?q=refund&conversationId=c2');
    expect(inC2.body.hits.map((hit: { message: Message }) => hit.message.id)).toEqual(['m4']);
    const bySender = await call('GET', '/v1/search?q=refund&senderId=u1');
    expect(bySender.body.hits.map((hit: { message: Message }) => hit.message.id)).toEqual(['m1']);

    const page = await call('GET', '/v1/search?q=refund&limit=2');
    expect(page.body.hits).toHaveLength(2);
    const rest = await call('GET', `/v1/search?q=refund&limit=2&cursor=${page.body.next}`);
    expect(rest.body).toStrictEqual({ hits: [expect.anything()] });
  });

  test('q is required and must hold a word', async () => {
    const { call } = testApp();
    expect((await call('GET', '/v1/search')).body.error.path).toBe('q');
    expect((await call('GET', '/v1/search?q=%20!')).body).toStrictEqual(
      envelope('INVALID_ARGUMENT', 'query must contain at least one word', { path: 'query' }),
    );
  });
});

test('GET /v1/stats counts the whole store or one conversation', async () => {
  const { call, store } = testApp();
  await store.append('c1', [
    { role: 'user', content: '/help' },
    { role: 'assistant', content: 'x', status: 'failed', media: [{ url: 'https://x/y.jpg', type: 'image' }] },
  ]);
  await store.append('c2', { role: 'user', content: 'y' });
  expect((await call('GET', '/v1/stats')).body).toStrictEqual({
    total: 3,
    incoming: 2,
    outgoing: 1,
    withMedia: 1,
    commands: 1,
    adminCommands: 0,
    failed: 1,
    deleted: 0,
    byRole: { user: 2, assistant: 1, system: 0, tool: 0 },
    conversations: 2,
    byChannel: {},
  });
  expect((await call('GET', '/v1/stats?conversationId=c2')).body).toMatchObject({ total: 1, conversations: 1 });
});

describe('GET /v1/export', () => {
  test('streams each conversation, then its messages in seq order, as JSON Lines: what chatstore export writes', async () => {
    const { call, store, seed } = testApp();
    const a = await seed('a', 1200);
    const b = await seed('b', 3);
    await store.delete('m1');
    const res = await call('GET', '/v1/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.text.endsWith('\n')).toBe(true);
    const lines = res.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ExportRecord);
    const [recordA, recordB] = [await store.getConversation('a'), await store.getConversation('b')];
    expect(lines).toStrictEqual([{ conversation: recordA }, ...a.slice(1), { conversation: recordB }, ...b]);
    const lib: string[] = [];
    for await (const record of store.exportRecords()) lib.push(`${JSON.stringify(record)}\n`);
    expect(res.text).toBe(lib.join(''));

    const withDeleted = await call('GET', '/v1/export?conversationId=a&includeDeleted=true');
    expect(withDeleted.text.trimEnd().split('\n')).toHaveLength(1201);
  });

  test('an empty store exports an empty body; a bad filter is a 400, not a broken stream', async () => {
    const { call } = testApp();
    const empty = await call('GET', '/v1/export');
    expect([empty.status, empty.text]).toStrictEqual([200, '']);
    const bad = await call('GET', '/v1/export?from=soon');
    expect([bad.status, bad.body.error.path]).toStrictEqual([400, 'from']);
  });
});

describe('GET /v1/subjects/{subjectId}/export', () => {
  test('streams what erasing the person would remove, as JSON Lines: what exportSubject yields; needs the admin scope', async () => {
    const { call, store } = testApp({ apiKeys: API_KEYS });
    await store.append('+1555', [
      { role: 'user', content: 'mine', senderId: '+1555' },
      { role: 'assistant', content: 'to me', recipientId: '+1555' },
    ]);
    await store.append('g', [
      { role: 'user', content: 'in a group', senderId: '+1555' },
      { role: 'user', content: 'someone else', senderId: '+1666' },
    ]);
    await store.delete('m3');
    for (const key of [READ_KEY, READ_WRITE_KEY, WRITE_KEY]) {
      const denied = await call('GET', '/v1/subjects/%2B1555/export', { key });
      expect([denied.status, denied.body.error.code]).toStrictEqual([403, 'PERMISSION_DENIED']);
    }

    const res = await call('GET', '/v1/subjects/%2B1555/export', { key: ADMIN_KEY });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const own = await store.getConversation('+1555');
    const group = await store.getConversation('g');
    const entry = group?.participants.find((p) => p.id === '+1555');
    expect(
      res.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toStrictEqual([
      { subject: { id: '+1555', exportedAt: T0 } },
      { conversation: own },
      await store.get('m1'),
      await store.get('m2'),
      { conversation: { id: 'g', type: 'private', participants: [entry], createdAt: T0 } },
      { ...(await store.get('m3')), deletedAt: T0 },
    ]);
    const lib: string[] = [];
    for await (const record of store.exportSubject('+1555')) lib.push(`${JSON.stringify(record)}\n`);
    expect(res.text).toBe(lib.join(''));

    const erased = await call('POST', '/v1/erasures', { body: { subjectId: '+1555' }, key: ADMIN_KEY });
    expect(erased.body).toMatchObject({
      messagesDeleted: 3,
      conversationsDeleted: ['+1555'],
      participantEntriesRemoved: 2,
    });
    const after = await call('GET', '/v1/subjects/%2B1555/export', { key: ADMIN_KEY });
    expect(after.text).toBe(`${JSON.stringify({ subject: { id: '+1555', exportedAt: T0 } })}\n`);
  });

  test('a bad id is a 400 and an unreachable engine a 503, never an empty export', async () => {
    const { call } = testApp();
    const long = await call('GET', `/v1/subjects/${'x'.repeat(256)}/export`);
    expect([long.status, long.body.error.code, long.body.error.path]).toStrictEqual([
      400,
      'INVALID_ARGUMENT',
      'participantId',
    ]);
    const broken = await call('GET', '/v1/subjects/x%zz/export');
    expect([broken.status, broken.body.error.path]).toStrictEqual([400, 'subjectId']);

    const failing = {
      ...memoryBackend(),
      conversationIds: async () => {
        throw new ChatStoreError('UNAVAILABLE', 'cannot reach postgres://app:hunter2@db:5432/chat');
      },
    };
    const down = testApp({}, { backend: failing });
    const res = await down.call('GET', '/v1/subjects/%2B1555/export');
    expect([res.status, res.body]).toStrictEqual([
      503,
      envelope('UNAVAILABLE', 'cannot reach postgres://app:***@db:5432/chat'),
    ]);
  });
});

describe('POST /v1/erasures', () => {
  test('erases a person and returns the receipt; needs the admin scope', async () => {
    const { call, store } = testApp({ apiKeys: API_KEYS }, {});
    await store.append('+1555', [
      { role: 'user', content: 'mine', senderId: '+1555' },
      { role: 'assistant', content: 'to me', recipientId: '+1555' },
    ]);
    await store.append('g', { role: 'user', content: 'in a group', senderId: '+1555' });
    const denied = await call('POST', '/v1/erasures', { body: { subjectId: '+1555' }, key: READ_WRITE_KEY });
    expect([denied.status, denied.body.error.code]).toStrictEqual([403, 'PERMISSION_DENIED']);

    const res = await call('POST', '/v1/erasures', { body: { subjectId: '+1555' }, key: ADMIN_KEY });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      subjectId: '+1555',
      messagesDeleted: 3,
      conversationsDeleted: ['+1555'],
      participantEntriesRemoved: expect.any(Number),
      erasedAt: T0,
    });
    expect(await store.stats()).toMatchObject({ total: 0 });
  });
});

describe('compact=true: an erasure or hard delete that rewrites the storage', () => {
  /** A memory store whose backend says it compacts, and records the removals asked to. */
  function compactingApp() {
    const base = memoryBackend();
    const asked: string[] = [];
    const backend: Backend = {
      ...base,
      removeMessage: (id, options) => {
        if (options?.compact === true) asked.push(`removeMessage ${id}`);
        return base.removeMessage(id);
      },
      deleteConversation: (id, options) => {
        if (options.compact === true) asked.push(`deleteConversation ${id}`);
        return base.deleteConversation(id, options);
      },
      eraseSubject: (subjectId, now, options) => {
        if (options?.compact === true) asked.push(`eraseSubject ${subjectId}`);
        return base.eraseSubject(subjectId, now);
      },
      compact: async () => ({ rewritten: ['everything'], skipped: [], ms: 1 }),
    };
    return { ...testApp({ apiKeys: API_KEYS }, { backend }), asked };
  }

  test('the erasure receipt says whether the engine rewrote its storage', async () => {
    const { call, store, asked } = compactingApp();
    await store.append('+1555', { role: 'user', content: 'mine', senderId: '+1555' });
    const res = await call('POST', '/v1/erasures?compact=true', { body: { subjectId: '+1555' }, key: ADMIN_KEY });
    expect([res.status, res.body.compaction]).toStrictEqual([200, 'done']);
    expect(asked).toStrictEqual(['eraseSubject +1555']);

    const plain = testApp({ apiKeys: API_KEYS });
    const nothing = await plain.call('POST', '/v1/erasures?compact=true', { body: { subjectId: 'x' }, key: ADMIN_KEY });
    expect(nothing.body).toStrictEqual({
      subjectId: 'x',
      messagesDeleted: 0,
      conversationsDeleted: [],
      participantEntriesRemoved: 0,
      erasedAt: T0,
      compaction: 'not-needed',
    });
    const bad = await plain.call('POST', '/v1/erasures?compact=yes', { body: { subjectId: 'x' }, key: ADMIN_KEY });
    expect([bad.status, bad.body.error.path]).toStrictEqual([400, 'compact']);
  });

  test('on hard deletes it needs the admin scope, and hard=true', async () => {
    const { call, store, asked } = compactingApp();
    await store.append('c1', [
      { role: 'user', content: 'one' },
      { role: 'user', content: 'two' },
    ]);
    const denied = await call('DELETE', '/v1/messages/m1?hard=true&compact=true', { key: READ_WRITE_KEY });
    expect([denied.status, denied.body.error.code]).toStrictEqual([403, 'PERMISSION_DENIED']);
    const soft = await call('DELETE', '/v1/messages/m1?compact=true', { key: ADMIN_KEY });
    expect([soft.status, soft.body.error.path]).toStrictEqual([400, 'compact']);
    expect(await store.get('m1')).toMatchObject({ content: 'one' });

    const message = await call('DELETE', '/v1/messages/m1?hard=true&compact=true', { key: ADMIN_KEY });
    expect([message.status, message.body]).toStrictEqual([200, { deleted: true, hard: true }]);
    const deniedToo = await call('DELETE', '/v1/conversations/c1?hard=true&compact=true', { key: WRITE_KEY });
    expect(deniedToo.status).toBe(403);
    const conversation = await call('DELETE', '/v1/conversations/c1?hard=true&compact=true', { key: ADMIN_KEY });
    expect([conversation.status, conversation.body]).toStrictEqual([200, { deleted: true, hard: true }]);
    expect(asked).toStrictEqual(['removeMessage m1', 'deleteConversation c1']);
    // Without compact, write is enough, as before.
    await store.append('c2', { role: 'user', content: 'three' });
    expect((await call('DELETE', '/v1/messages/m3?hard=true', { key: WRITE_KEY })).status).toBe(200);
  });
});
