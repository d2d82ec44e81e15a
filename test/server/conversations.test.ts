/** Conversation routes through app.request(): list, create, get, update, participants, delete. */
import { describe, expect, test } from 'vitest';
import { memoryBackend } from '../../src/backends/memory/index.js';
import type { Conversation } from '../../src/model.js';
import { ChatStore } from '../../src/store.js';
import { envelope, T0, testApp } from './helpers.js';

const conversation = (id: string, extra: Partial<Conversation> = {}): Conversation => ({
  id,
  type: 'private',
  participants: [],
  metadata: {},
  createdAt: T0,
  updatedAt: T0,
  lastSeq: 0,
  messageCount: 0,
  ...extra,
});

describe('GET /v1/conversations', () => {
  test('newest activity first, by participant, by type, with a cursor', async () => {
    let clock = Date.parse(T0);
    const tick = () => {
      clock += 1000;
      return new Date(clock);
    };
    const { call, store } = testApp({}, { store: { now: tick } });
    await store.append('a', { role: 'user', content: '1', senderId: '+1' });
    await store.append('b', { role: 'user', content: '2', senderId: '+2' });
    await store.append('c', { role: 'user', content: '3', senderId: '+1' });
    await store.createConversation('g', { type: 'group' });

    const ids = (res: { body: { conversations: Conversation[] } }) => res.body.conversations.map((c) => c.id);
    expect(ids(await call('GET', '/v1/conversations'))).toEqual(['g', 'c', 'b', 'a']);
    expect(ids(await call('GET', '/v1/conversations?participantId=%2B1'))).toEqual(['c', 'a']);
    expect(ids(await call('GET', '/v1/conversations?type=group'))).toEqual(['g']);

    const first = await call('GET', '/v1/conversations?limit=3');
    expect(ids(first)).toEqual(['g', 'c', 'b']);
    expect(first.body.next).toEqual(expect.any(String));
    const rest = await call('GET', `/v1/conversations?limit=3&cursor=${first.body.next}`);
    expect(rest.body).toStrictEqual({ conversations: [expect.objectContaining({ id: 'a' })] });
  });

  test('by channel: set at creation or by a patch, filtered, counted in stats and admin stats', async () => {
    const { call } = testApp();
    const appended = await call('POST', '/v1/conversations/%2B15550001/messages', {
      body: { messages: [{ role: 'user', content: 'hola' }], conversation: { channel: 'whatsapp' } },
    });
    expect(appended.status).toBe(201);
    expect((await call('POST', '/v1/conversations', { body: { id: 'tg:7', channel: 'telegram' } })).body).toMatchObject(
      {
        id: 'tg:7',
        channel: 'telegram',
      },
    );
    await call('POST', '/v1/conversations', { body: { id: 'web-1' } });
    expect((await call('PATCH', '/v1/conversations/web-1', { body: { channel: 'web' } })).body.channel).toBe('web');

    const ids = (res: { body: { conversations: Conversation[] } }) => res.body.conversations.map((c) => c.id);
    expect(ids(await call('GET', '/v1/conversations?channel=whatsapp'))).toEqual(['+15550001']);
    expect(ids(await call('GET', '/v1/conversations?channel=web'))).toEqual(['web-1']);
    expect((await call('GET', '/v1/conversations?channel=Web')).body.error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      path: 'channel',
    });
    const byChannel = {
      telegram: { conversations: 1, messages: 0 },
      web: { conversations: 1, messages: 0 },
      whatsapp: { conversations: 1, messages: 1 },
    };
    expect((await call('GET', '/v1/stats')).body.byChannel).toStrictEqual(byChannel);
    expect((await call('GET', '/admin/storage/stats')).body.counts.byChannel).toStrictEqual(byChannel);
    expect((await call('PATCH', '/v1/conversations/web-1', { body: { channel: null } })).body.channel).toBeUndefined();
  });

  test('a bad cursor or limit is 400', async () => {
    const { call } = testApp();
    expect((await call('GET', '/v1/conversations?cursor=x')).body).toStrictEqual(
      envelope('INVALID_ARGUMENT', 'cursor is not valid here', { path: 'cursor' }),
    );
    expect((await call('GET', '/v1/conversations?limit=-1')).body.error.path).toBe('limit');
  });
});

describe('one conversation', () => {
  test('create: 201 with Location; again: 409', async () => {
    const { call } = testApp();
    const body = {
      id: 'g1',
      type: 'group',
      title: 'Ops',
      metadata: { plan: 'pro' },
      participants: [{ id: 'u1', name: 'Ana' }],
    };
    const res = await call('POST', '/v1/conversations', { body });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/v1/conversations/g1');
    const expected = conversation('g1', {
      type: 'group',
      title: 'Ops',
      metadata: { plan: 'pro' },
      participants: [{ id: 'u1', kind: 'human', name: 'Ana', joinedAt: T0 }],
    });
    expect(res.body).toStrictEqual(expected);
    expect((await call('GET', '/v1/conversations/g1')).body).toStrictEqual(expected);
    const again = await call('POST', '/v1/conversations', { body });
    expect([again.status, again.body.error.code]).toStrictEqual([409, 'CONFLICT']);
  });

  test('create needs an id', async () => {
    const { call } = testApp();
    const res = await call('POST', '/v1/conversations', { body: { type: 'group' } });
    expect([res.status, res.body.error.path]).toStrictEqual([400, 'id']);
  });

  test('get: 404 for an unknown conversation', async () => {
    const { call } = testApp();
    const res = await call('GET', '/v1/conversations/nope');
    expect([res.status, res.body]).toStrictEqual([404, envelope('NOT_FOUND', 'conversation nope not found')]);
  });

  test('patch merges metadata (null removes a key) and sets the title', async () => {
    const { call, store } = testApp();
    await store.createConversation('c1', { metadata: { a: 1, b: 2 } });
    const res = await call('PATCH', '/v1/conversations/c1', { body: { title: 'T', metadata: { a: null, c: 3 } } });
    expect([res.status, res.body]).toStrictEqual([200, conversation('c1', { title: 'T', metadata: { b: 2, c: 3 } })]);
    const untitled = await call('PATCH', '/v1/conversations/c1', { body: { title: null } });
    expect(untitled.body).toStrictEqual(conversation('c1', { metadata: { b: 2, c: 3 } }));
    const missing = await call('PATCH', '/v1/conversations/nope', { body: { title: 'x' } });
    expect([missing.status, missing.body]).toStrictEqual([404, envelope('NOT_FOUND', 'conversation nope not found')]);
    const bad = await call('PATCH', '/v1/conversations/c1', { body: { metadata: [1] } });
    expect([bad.status, bad.body.error.path]).toStrictEqual([400, 'metadata']);
  });

  test('participants: list, add (existing ones stay), remove', async () => {
    const { call, store } = testApp();
    await store.createConversation('g', { participants: [{ id: 'u1', name: 'Ana' }] });
    const added = await call('POST', '/v1/conversations/g/participants', {
      body: {
        participants: [
          { id: 'u1', name: 'Changed' },
          { id: 'bot', kind: 'bot' },
        ],
      },
    });
    expect(added.status).toBe(200);
    expect(added.body.participants).toStrictEqual([
      { id: 'bot', kind: 'bot', joinedAt: T0 },
      { id: 'u1', kind: 'human', name: 'Ana', joinedAt: T0 },
    ]);
    expect((await call('GET', '/v1/conversations/g/participants')).body).toStrictEqual({
      participants: added.body.participants,
    });
    const removed = await call('DELETE', '/v1/conversations/g/participants/u1');
    expect(removed.body.participants).toStrictEqual([{ id: 'bot', kind: 'bot', joinedAt: T0 }]);
  });

  test('participants: 404 for an unknown conversation, 400 for a bad kind', async () => {
    const { call, store } = testApp();
    await store.createConversation('g');
    expect((await call('GET', '/v1/conversations/nope/participants')).status).toBe(404);
    expect((await call('POST', '/v1/conversations/nope/participants', { body: { participants: [] } })).status).toBe(
      404,
    );
    expect((await call('DELETE', '/v1/conversations/nope/participants/u1')).status).toBe(404);
    const bad = await call('POST', '/v1/conversations/g/participants', {
      body: { participants: [{ id: 'x', kind: 'cat' }] },
    });
    expect([bad.status, bad.body.error.path]).toStrictEqual([400, 'participants[0].kind']);
  });

  test('soft delete hides the conversation from the list; hard delete removes it', async () => {
    const { call, seed } = testApp();
    await seed('c1', 2);
    const soft = await call('DELETE', '/v1/conversations/c1');
    expect([soft.status, soft.body]).toStrictEqual([200, { deleted: true, hard: false }]);
    expect((await call('GET', '/v1/conversations')).body).toStrictEqual({ conversations: [] });
    expect((await call('GET', '/v1/conversations?includeDeleted=true')).body.conversations).toHaveLength(1);
    expect((await call('GET', '/v1/conversations/c1')).body.deletedAt).toBe(T0);

    const hard = await call('DELETE', '/v1/conversations/c1?hard=true');
    expect([hard.status, hard.body]).toStrictEqual([200, { deleted: true, hard: true }]);
    expect((await call('GET', '/v1/conversations/c1')).status).toBe(404);
    expect((await call('GET', '/v1/messages/m1')).status).toBe(404);
    const again = await call('DELETE', '/v1/conversations/c1?hard=true');
    expect([again.status, again.body]).toStrictEqual([404, envelope('NOT_FOUND', 'conversation c1 not found')]);
  });
});

test('the store is the one given: writes through the API are visible to other users of the store', async () => {
  const store = new ChatStore(memoryBackend());
  const { createApp } = await import('../../src/server/app.js');
  const app = createApp(store);
  await store.append('c1', { role: 'user', content: 'direct' });
  const res = await app.request('/v1/conversations/c1', { headers: { host: '[::1]:8080' } }, { remoteAddress: '::1' });
  expect(((await res.json()) as { lastSeq: number }).lastSeq).toBe(1);
  await store.close();
});
