/** Path ids are percent-decoded strictly: broken escapes are a 400 naming the parameter, never stored as written. */
import { describe, expect, test } from 'vitest';
import { envelope, testApp } from './helpers.js';

const BROKEN = [
  ['a%ED%A0%80b', 'an encoded lone surrogate'],
  ['%E0%A4%A', 'a truncated sequence'],
  ['x%zz', 'an escape that is not hex'],
  ['%C0%AF', 'overlong UTF-8'],
];

const refused = (name: string) =>
  envelope('INVALID_ARGUMENT', `${name}: is not valid percent-encoded UTF-8`, { path: name });

describe.each(BROKEN)('a path id %s (%s)', (raw) => {
  test('is refused on conversation routes, and nothing is stored', async () => {
    const { call, store } = testApp();
    await store.append('c1', { role: 'user', content: 'hi', senderId: 'u1' });
    const requests: [string, string, string, unknown?][] = [
      ['POST', `/v1/conversations/${raw}/messages`, 'conversationId', { role: 'user', content: 'hi' }],
      ['GET', `/v1/conversations/${raw}`, 'conversationId'],
      ['PATCH', `/v1/conversations/${raw}`, 'conversationId', { title: 'x' }],
      ['GET', `/v1/conversations/${raw}/messages/recent`, 'conversationId'],
      ['POST', `/v1/conversations/${raw}/participants`, 'conversationId', { participants: [{ id: 'p' }] }],
      ['DELETE', `/v1/conversations/c1/participants/${raw}`, 'participantId'],
      ['GET', `/admin/storage/conversations/${raw}`, 'conversationId'],
    ];
    for (const [method, path, name, body] of requests) {
      const res = await call(method, path, { body });
      expect([res.status, res.body], `${method} ${path}`).toStrictEqual([400, refused(name)]);
    }
    const { conversations } = await store.listConversations();
    expect(conversations.map((c) => [c.id, c.participants.map((p) => p.id)])).toStrictEqual([['c1', ['u1']]]);
  });

  test('is refused on message routes', async () => {
    const { call, store } = testApp();
    const requests: [string, string, string, unknown?][] = [
      ['GET', `/v1/messages/${raw}`, 'messageId'],
      ['PATCH', `/v1/messages/${raw}`, 'messageId', { content: 'x' }],
      ['DELETE', `/v1/messages/${raw}`, 'messageId'],
      ['POST', `/v1/messages/${raw}/status`, 'messageId', { status: 'read' }],
      ['GET', `/v1/messages-by-external-id/${raw}`, 'externalId'],
      ['GET', `/v1/messages/by-external-id/${raw}`, 'externalId'],
    ];
    for (const [method, path, name, body] of requests) {
      const res = await call(method, path, { body });
      expect([res.status, res.body], `${method} ${path}`).toStrictEqual([400, refused(name)]);
    }
    expect((await store.listConversations()).conversations).toStrictEqual([]);
  });
});

test('well-formed escapes are decoded as before: %2B, %25, %2F, UTF-8', async () => {
  const { call, store } = testApp();
  const cases: [string, string][] = [
    ['%2B15550001', '+15550001'],
    ['a%25zz', 'a%zz'],
    ['tg%2F42', 'tg/42'],
    ['%F0%9F%91%8B', '👋'],
    ['caf%C3%A9', 'café'],
  ];
  for (const [raw, id] of cases) {
    const res = await call('POST', `/v1/conversations/${raw}/messages`, { body: { role: 'user', content: 'hi' } });
    expect([res.status, res.body.message.conversationId], raw).toStrictEqual([201, id]);
    expect((await call('GET', `/v1/conversations/${raw}`)).body.id).toBe(id);
    expect((await store.getConversation(id))?.lastSeq, raw).toBe(1);
  }
});
