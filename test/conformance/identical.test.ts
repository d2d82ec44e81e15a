/**
 * Identical input, identical output, byte for byte (invariant 6 in docs/ARCHITECTURE.md): every
 * object the store returns has its keys in one order (the field order of docs/api.md and
 * src/model.ts), -0 is 0, and strings are ordered by their UTF-8 bytes on every engine.
 */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { Conversation, Message, NewMessage } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, expectSearch, freshStore, T0 } from './harness.js';

const SHA = 'cd'.repeat(32);
const SENT = '2026-06-01T07:01:00.000Z';
const DELIVERED = '2026-06-01T07:02:00.000Z';
const READ = '2026-06-01T07:03:00.000Z';
const CREATED = '2026-06-01T07:00:45.123Z';

/** Every path inside `value` that holds -0. */
function negativeZeros(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Object.is(value, -0) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => negativeZeros(item, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => negativeZeros(item, `${path}.${key}`));
  }
  return [];
}

async function exportAll(store: ChatStoreApi, conversationId?: string): Promise<Message[]> {
  const all: Message[] = [];
  for await (const message of store.export(conversationId === undefined ? {} : { conversationId })) {
    all.push(message);
  }
  return all;
}

/** `JSON.stringify` of both must be the same text: same keys, same order, same values. */
function expectSameJson(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

describe.each(backends)('identical JSON on $name', (entry) => {
  test('messages, conversations, stats and receipts have their keys in one order, whatever the input order', async () => {
    const store = await freshStore(entry, atT0);
    await store.append(
      'c1',
      { id: 'm0', role: 'user', content: 'first', senderId: '+1555' },
      {
        conversation: {
          participants: [{ name: 'Ana', kind: 'human', id: 'ana' }],
          metadata: { zeta: 1, alpha: { y: 1, x: 2 }, mid: [{ b: 1, a: 2 }] },
          title: 'Team',
          type: 'group',
        },
      },
    );
    // Every key in an order unlike the documented one; metadata and parts in the caller's own order.
    const input = {
      createdAt: '2026-06-01T12:30:45.123+05:30',
      metadata: { zeta: 'z', alpha: { y: [{ d: 1, c: 2 }], x: null }, '': 'empty key' },
      command: { admin: true, name: 'ban' },
      replyTo: 'm0',
      error: { message: 'boom', code: 'E1' },
      statusAt: { read: READ, sent: SENT },
      status: 'sent',
      media: [{ providerId: 'p1', sha256: SHA, size: 5, mimeType: 'image/png', type: 'image', url: 'https://x/y.png' }],
      parts: [{ z: 1, a: { d: 1, c: 2 } }, 'text'],
      content: 'hello there',
      recipientId: '+1555',
      senderId: 'bot',
      direction: 'outgoing',
      role: 'assistant',
      externalId: 'wamid.1',
      id: 'm1',
    } as NewMessage;
    const expected: Message = {
      id: 'm1',
      conversationId: 'c1',
      seq: 2,
      externalId: 'wamid.1',
      role: 'assistant',
      direction: 'outgoing',
      senderId: 'bot',
      recipientId: '+1555',
      content: 'hello there',
      parts: [{ z: 1, a: { d: 1, c: 2 } }, 'text'],
      media: [{ url: 'https://x/y.png', type: 'image', mimeType: 'image/png', size: 5, sha256: SHA, providerId: 'p1' }],
      status: 'sent',
      statusAt: { sent: SENT, read: READ },
      error: { code: 'E1', message: 'boom' },
      replyTo: 'm0',
      command: { name: 'ban', admin: true },
      metadata: { zeta: 'z', alpha: { y: [{ d: 1, c: 2 }], x: null }, '': 'empty key' },
      createdAt: CREATED,
    };
    const first: Message = {
      id: 'm0',
      conversationId: 'c1',
      seq: 1,
      role: 'user',
      direction: 'incoming',
      senderId: '+1555',
      content: 'first',
      createdAt: T0,
    };

    expectSameJson(await store.append('c1', input), [{ message: expected, duplicate: false }]);
    expectSameJson(await store.append('c1', input), [{ message: expected, duplicate: true }]);
    expectSameJson(await store.get('m1'), expected);
    expectSameJson(await store.getByExternalId('wamid.1'), expected);
    expectSameJson(await store.recent('c1'), [first, expected]);
    expectSameJson(await store.list('c1'), { messages: [first, expected] });
    expectSameJson(await store.list('c1', { order: 'desc', limit: 1 }), {
      messages: [expected],
      next: (await store.list('c1', { order: 'desc', limit: 1 })).next,
    });
    expectSameJson(await store.around('c1', 'm1', { before: 1, after: 0 }), [first, expected]);
    expectSameJson(await exportAll(store), [first, expected]);
    await expectSearch(
      entry,
      () => store.search('hello'),
      (page) => expectSameJson(page.hits[0]?.message, expected),
    );

    // Status times come in lifecycle order (queued, sent, delivered, read, failed), whatever the report order.
    // A spread keeps the position of keys it overrides, so these literals stay in the documented order.
    const reported: Message = {
      ...expected,
      status: 'delivered',
      statusAt: { sent: SENT, delivered: DELIVERED, read: READ },
    };
    expectSameJson(await store.updateStatus('m1', 'delivered', { at: DELIVERED }), reported);
    const edited: Message = { ...reported, content: 'hello again', editedAt: T0 };
    expectSameJson(await store.edit('m1', { content: 'hello again' }), edited);
    await store.delete('m1');
    expectSameJson(await store.get('m1'), { ...edited, deletedAt: T0 });
    expectSameJson((await store.list('c1', { includeDeleted: true })).messages, [first, { ...edited, deletedAt: T0 }]);

    const conversation: Conversation = {
      id: 'c1',
      type: 'group',
      title: 'Team',
      participants: [
        { id: '+1555', kind: 'human', joinedAt: T0 },
        { id: 'ana', kind: 'human', name: 'Ana', joinedAt: T0 },
        { id: 'bot', kind: 'ai', joinedAt: T0 },
      ],
      metadata: { zeta: 1, alpha: { y: 1, x: 2 }, mid: [{ b: 1, a: 2 }] },
      createdAt: T0,
      updatedAt: T0,
      lastSeq: 2,
      messageCount: 2,
      lastMessageAt: CREATED,
    };
    expectSameJson(await store.getConversation('c1'), conversation);
    expectSameJson(await store.listConversations(), { conversations: [conversation] });
    // A merge patch keeps the stored keys where they were and adds new ones after them, in the patch's order.
    const merged = { ...conversation, metadata: { zeta: 1, alpha: { y: 1, x: 3, w: 0 }, mid: 'm', added: true } };
    expectSameJson(
      await store.updateConversation('c1', { metadata: { alpha: { x: 3, w: 0 }, added: true, mid: 'm' } }),
      merged,
    );
    const [phone, ana, bot] = merged.participants;
    const bob = { id: 'bob', kind: 'bot', name: 'Bob', joinedAt: T0 };
    const withBob = { ...merged, participants: [phone, ana, bob, bot] };
    expectSameJson(await store.addParticipants('c1', [{ name: 'Bob', kind: 'bot', id: 'bob' }]), withBob);
    expectSameJson(await store.removeParticipant('c1', 'bob'), merged);
    expectSameJson(await store.createConversation('c2', { channel: 'web', metadata: { b: 1, a: 2 }, title: 'Two' }), {
      id: 'c2',
      type: 'private',
      title: 'Two',
      channel: 'web',
      participants: [],
      metadata: { b: 1, a: 2 },
      createdAt: T0,
      updatedAt: T0,
      lastSeq: 0,
      messageCount: 0,
    });
    await store.deleteConversation('c2');
    expectSameJson((await store.listConversations({ includeDeleted: true, type: 'private' })).conversations, [
      {
        id: 'c2',
        type: 'private',
        title: 'Two',
        channel: 'web',
        participants: [],
        metadata: { b: 1, a: 2 },
        createdAt: T0,
        updatedAt: T0,
        lastSeq: 0,
        messageCount: 0,
        deletedAt: T0,
      },
    ]);

    expectSameJson(await store.stats(), {
      total: 1,
      incoming: 1,
      outgoing: 0,
      withMedia: 0,
      commands: 0,
      adminCommands: 0,
      failed: 0,
      deleted: 1,
      byRole: { user: 1, assistant: 0, system: 0, tool: 0 },
      conversations: 1,
      byChannel: {},
    });
    expectSameJson(await store.eraseSubject('+1555'), {
      subjectId: '+1555',
      messagesDeleted: 2,
      conversationsDeleted: [],
      participantEntriesRemoved: 1,
      erasedAt: T0,
    });
  });

  test('-0 in metadata, parts and media is stored and returned as 0 by every read', async () => {
    const store = await freshStore(entry, atT0);
    const [result] = await store.append(
      'c1',
      {
        id: 'z1',
        role: 'user',
        content: 'zero',
        metadata: { n: -0, deep: [-0, { z: -0 }] },
        parts: [-0, { p: [-0] }],
        media: [{ url: 'https://x/z.png', type: 'image', size: -0 }],
      },
      { conversation: { metadata: { c: -0, deep: { d: [-0] } } } },
    );
    const message = result?.message as Message;
    expect(message).toMatchObject({ metadata: { n: 0, deep: [0, { z: 0 }] }, parts: [0, { p: [0] }] });
    const reads: [string, unknown][] = [
      ['append', result],
      ['duplicate append', await store.append('c1', { id: 'z1', role: 'user', content: 'zero' })],
      ['get', await store.get('z1')],
      ['recent', await store.recent('c1')],
      ['list', await store.list('c1')],
      ['around', await store.around('c1', 1)],
      ['export', await exportAll(store)],
      ['getConversation', await store.getConversation('c1')],
      ['edit', await store.edit('z1', { metadata: { e: -0, n: -0 } })],
      ['get after edit', await store.get('z1')],
      ['updateConversation', await store.updateConversation('c1', { metadata: { u: [-0], c: -0 } })],
      ['createConversation', await store.createConversation('c2', { metadata: { x: -0 } })],
      ['listConversations', await store.listConversations()],
    ];
    expect(Object.fromEntries(reads.map(([what, value]) => [what, negativeZeros(value)]))).toStrictEqual(
      Object.fromEntries(reads.map(([what]) => [what, []])),
    );
    expect((await store.get('z1'))?.metadata).toStrictEqual({ n: 0, deep: [0, { z: 0 }], e: 0 });
    expect((await store.getConversation('c1'))?.metadata).toStrictEqual({ c: 0, deep: { d: [0] }, u: [0] });
  });

  test('ids are ordered by their UTF-8 bytes: export, conversation ties, external-id lookups', async () => {
    const store = await freshStore(entry, atT0);
    // UTF-16 code units order these 'a' < 'é' < '😀' (a surrogate pair, 0xD83D…) < '\uE000' < '\uFFFD';
    // UTF-8 bytes (and code points) order them 'a' < 'é' < '\uE000' < '\uFFFD' < '😀'.
    const bytewise = ['a', 'é', '\uE000', '\uFFFD', '\u{1F600}'];
    for (const id of ['\u{1F600}', '\uFFFD', 'a', '\uE000', 'é']) {
      await store.append(id, {
        id: `m${id}`,
        role: 'user',
        content: 'same words',
        ...(id === 'a' || id === 'é' ? {} : { externalId: 'wamid.shared' }),
      });
    }
    expect((await exportAll(store)).map((m) => m.conversationId)).toEqual(bytewise);
    // Same activity time everywhere: ties go by id, descending, on every page.
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listConversations({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      listed.push(...page.conversations.map((c) => c.id));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(listed).toEqual([...bytewise].reverse());
    expect((await store.getByExternalId('wamid.shared'))?.conversationId).toBe('\uE000');
  });

  test('participants, and the conversations of one participant, are ordered by id bytes too', async () => {
    const store = await freshStore(entry, atT0);
    for (const id of ['\u{1F600}', '\uFFFD', '\uE000']) {
      await store.append(id, { role: 'user', content: 'hello', senderId: 'p1' });
    }
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listConversations({
        participantId: 'p1',
        limit: 1,
        ...(cursor === undefined ? {} : { cursor }),
      });
      listed.push(...page.conversations.map((c) => c.id));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(listed).toEqual(['\u{1F600}', '\uFFFD', '\uE000']);

    const group = await store.addParticipants('\uE000', [{ id: '\u{1F600}' }, { id: '\uFFFD' }, { id: '\uE000' }]);
    expect(group.participants.map((p) => p.id)).toEqual(['p1', '\uE000', '\uFFFD', '\u{1F600}']);
    expect((await store.getConversation('\uE000'))?.participants.map((p) => p.id)).toEqual([
      'p1',
      '\uE000',
      '\uFFFD',
      '\u{1F600}',
    ]);
  });
});
