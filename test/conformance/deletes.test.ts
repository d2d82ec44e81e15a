/** Soft and hard deletes of messages and conversations, and GDPR erasure (docs/api.md; invariant 8 in docs/ARCHITECTURE.md). */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { Message } from '../../src/model.js';
import { backends } from './backends.js';
import {
  atT0,
  expectError,
  expectNoHits,
  expectSearch,
  freshStore,
  listAll,
  seqs,
  T0,
  tickingClock,
} from './harness.js';

async function exported(store: ChatStoreApi, includeDeleted = false): Promise<Message[]> {
  const all: Message[] = [];
  for await (const message of store.export({ includeDeleted })) all.push(message);
  return all;
}

const plain = (m: Message) => ({ role: m.role, content: m.content });

describe.each(backends)('deletes on $name', (entry) => {
  async function threeMessages() {
    const store = await freshStore(entry, atT0);
    const results = await store.append('c1', [
      { role: 'user', content: 'alpha one', senderId: 'u1' },
      { role: 'assistant', content: 'beta two', externalId: 'ext-beta' },
      { role: 'user', content: 'gamma three', senderId: 'u1' },
    ]);
    const [alpha, beta, gamma] = results.map((r) => r.message) as [Message, Message, Message];
    return { store, alpha, beta, gamma };
  }

  test('a soft-deleted message is hidden from reads, search, context and stats, but get returns it', async () => {
    const { store, alpha, beta, gamma } = await threeMessages();
    expect(await store.delete(beta.id)).toBe(true);
    const deleted = { ...beta, deletedAt: T0 };
    expect(await store.get(beta.id)).toStrictEqual(deleted);
    expect(await store.getByExternalId('ext-beta', 'c1')).toStrictEqual(deleted);
    expect(await store.recent('c1', 10)).toStrictEqual([alpha, gamma]);
    expect(await store.list('c1')).toStrictEqual({ messages: [alpha, gamma] });
    expect(await store.list('c1', { includeDeleted: true })).toStrictEqual({ messages: [alpha, deleted, gamma] });
    expect(await store.around('c1', 2, { before: 1, after: 1 })).toStrictEqual([alpha, gamma]);
    expect(await store.around('c1', 2, { before: 1, after: 1, includeDeleted: true })).toStrictEqual([
      alpha,
      deleted,
      gamma,
    ]);
    expect(await store.context('c1')).toStrictEqual([plain(alpha), plain(gamma)]);
    await expectNoHits(entry, () => store.search('beta'));
    expect(await exported(store)).toStrictEqual([alpha, gamma]);
    expect(await exported(store, true)).toStrictEqual([alpha, deleted, gamma]);
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 3, messageCount: 3 });
    expect(await store.stats('c1')).toMatchObject({ total: 2, deleted: 1, outgoing: 0, incoming: 2 });

    // Deleting again still finds the message; its deletion time does not move.
    expect(await store.delete(beta.id)).toBe(true);
    expect(await store.get(beta.id)).toStrictEqual(deleted);
    // It is still stored, so re-sending it is a duplicate, and it cannot be edited.
    expect(await store.append('c1', { role: 'assistant', content: 'beta two', externalId: 'ext-beta' })).toStrictEqual([
      { message: deleted, duplicate: true },
    ]);
    await expectError(store.edit(beta.id, { content: 'revived?' }), 'NOT_FOUND');
    expect(await store.delete('no-such-message')).toBe(false);
  });

  test('a hard-deleted message is gone everywhere, its seq is never reused and the count drops', async () => {
    const { store, alpha, beta, gamma } = await threeMessages();
    expect(await store.delete(beta.id, { hard: true })).toBe(true);
    expect(await store.get(beta.id)).toBeUndefined();
    expect(await store.getByExternalId('ext-beta')).toBeUndefined();
    expect(await store.list('c1', { includeDeleted: true })).toStrictEqual({ messages: [alpha, gamma] });
    await expectNoHits(entry, () => store.search('beta'));
    expect(await exported(store, true)).toStrictEqual([alpha, gamma]);
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 3, messageCount: 2 });
    expect(await store.stats('c1')).toMatchObject({ total: 2, deleted: 0 });
    await expectError(store.updateStatus(beta.id, 'read'), 'NOT_FOUND');
    await expectError(store.updateStatus('ext-beta', 'read'), 'NOT_FOUND');
    await expectError(store.edit(beta.id, { content: 'x' }), 'NOT_FOUND');
    await expectError(store.around('c1', beta.id), 'NOT_FOUND');
    expect(await store.delete(beta.id, { hard: true })).toBe(false);
    expect(await store.delete(beta.id)).toBe(false);

    // Re-sending it now stores it again, as a new message at the end.
    const [again] = await store.append('c1', { role: 'assistant', content: 'beta two', externalId: 'ext-beta' });
    expect(again).toStrictEqual({ message: { ...beta, id: expect.any(String), seq: 4 }, duplicate: false });
    expect(seqs(await listAll(store, 'c1'))).toEqual([1, 3, 4]);

    // A soft-deleted message can be hard-deleted too.
    await store.delete(alpha.id);
    expect(await store.delete(alpha.id, { hard: true })).toBe(true);
    expect(await store.get(alpha.id)).toBeUndefined();
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 4, messageCount: 2 });
    expect(await store.stats('c1')).toMatchObject({ total: 2, deleted: 0 });
  });

  test('a hard-deleted id can be used again, in another conversation too', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('a', { id: 'reused', role: 'user', content: 'first life' });
    await store.delete('reused', { hard: true });
    const [second] = await store.append('b', { id: 'reused', role: 'user', content: 'second life' });
    expect(second).toStrictEqual({
      message: {
        id: 'reused',
        conversationId: 'b',
        seq: 1,
        role: 'user',
        direction: 'incoming',
        content: 'second life',
        createdAt: T0,
      },
      duplicate: false,
    });
    expect(await store.get('reused')).toStrictEqual(second?.message);
  });

  test('soft-deleting a conversation hides it and its messages; appending revives it', async () => {
    const store = await freshStore(entry, { now: tickingClock() });
    const appended = (
      await store.append('c1', [
        { role: 'user', content: 'one', senderId: 'u1' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'three', senderId: 'u1' },
      ])
    ).map((r) => r.message);
    await store.append('c2', { role: 'user', content: 'other conversation' });
    await store.delete(appended[1]?.id as string);
    const twoDeletedAt = (await store.get(appended[1]?.id as string))?.deletedAt as string;
    const before = await store.getConversation('c1');

    expect(await store.deleteConversation('c1')).toBe(true);
    const conversation = await store.getConversation('c1');
    expect(conversation).toStrictEqual({
      ...before,
      deletedAt: expect.any(String),
      updatedAt: conversation?.deletedAt,
    });
    const at = conversation?.deletedAt as string;
    expect(at > twoDeletedAt).toBe(true);
    expect(await store.recent('c1')).toStrictEqual([]);
    expect(await store.context('c1')).toStrictEqual([]);
    expect(await store.list('c1', { includeDeleted: true })).toStrictEqual({
      messages: [
        { ...appended[0], deletedAt: at },
        { ...appended[1], deletedAt: twoDeletedAt },
        { ...appended[2], deletedAt: at },
      ],
    });
    await expectNoHits(entry, () => store.search('three'));
    expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual(['c2']);
    expect((await store.listConversations({ includeDeleted: true })).conversations.map((c) => c.id).sort()).toEqual([
      'c1',
      'c2',
    ]);
    expect(await store.stats('c1')).toMatchObject({ total: 0, deleted: 3, conversations: 0 });
    expect(await store.stats()).toMatchObject({ total: 1, deleted: 3, conversations: 1 });

    const [revived] = await store.append('c1', { role: 'user', content: 'four' });
    expect(revived?.message.seq).toBe(4);
    const after = await store.getConversation('c1');
    expect(after?.deletedAt).toBeUndefined();
    expect(after).toMatchObject({ lastSeq: 4, messageCount: 4 });
    expect(await store.recent('c1')).toStrictEqual([revived?.message]);
    expect(await store.deleteConversation('nobody')).toBe(false);
  });

  test('hard-deleting a conversation removes it and every message', async () => {
    const { store, alpha, beta } = await threeMessages();
    await store.append('c2', { role: 'user', content: 'alpha elsewhere' });
    expect(await store.deleteConversation('c1', { hard: true })).toBe(true);
    expect(await store.getConversation('c1')).toBeUndefined();
    expect(await store.get(alpha.id)).toBeUndefined();
    expect(await store.getByExternalId(beta.externalId as string)).toBeUndefined();
    expect(await store.list('c1', { includeDeleted: true })).toStrictEqual({ messages: [] });
    await expectSearch(
      entry,
      () => store.search('alpha'),
      (page) => expect(page.hits.map((h) => h.message.conversationId)).toEqual(['c2']),
    );
    expect((await store.listConversations({ includeDeleted: true })).conversations.map((c) => c.id)).toEqual(['c2']);
    expect(await store.stats()).toMatchObject({ total: 1, deleted: 0, conversations: 1 });
    expect(await store.deleteConversation('c1', { hard: true })).toBe(false);
    // The id is free again: a new conversation starts at seq 1.
    const [fresh] = await store.append('c1', { id: alpha.id, role: 'user', content: 'new start' });
    expect(fresh?.message.seq).toBe(1);
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 1, messageCount: 1 });
  });

  test('eraseSubject removes every message to or from the person, their entries and their conversation', async () => {
    const store = await freshStore(entry, atT0);
    const ana = '+15550001';
    const bob = '+15550002';
    const erased: string[] = [];
    const kept: string[] = [];
    const add = async (conversationId: string, message: Parameters<ChatStoreApi['append']>[1], erase: boolean) => {
      const [result] = await store.append(conversationId, message);
      (erase ? erased : kept).push(result?.message.id as string);
      return result?.message as Message;
    };
    await add(ana, { role: 'user', content: 'hola soy ana', senderId: ana, recipientId: 'bot' }, true);
    await add(ana, { role: 'assistant', content: 'hola ana', senderId: 'bot', recipientId: ana }, true);
    await add(ana, { role: 'system', content: 'session started' }, true);
    await add('g1', { role: 'user', content: 'ana in group', senderId: ana }, true);
    await add('g1', { role: 'user', content: 'bob in group', senderId: bob }, false);
    await add('g1', { role: 'assistant', content: 'bot to group', senderId: 'bot' }, false);
    await add('g1', { role: 'assistant', content: 'reply to ana', senderId: 'bot', recipientId: ana }, true);
    const hidden = await add('g1', { role: 'user', content: 'ana deleted later', senderId: ana }, true);
    await store.delete(hidden.id);
    await add(bob, { role: 'user', content: 'bob private', senderId: bob, recipientId: 'bot' }, false);
    expect((await store.getConversation('g1'))?.participants.map((p) => p.id).sort()).toEqual([ana, bob, 'bot'].sort());

    expect(await store.eraseSubject(ana)).toStrictEqual({
      subjectId: ana,
      messagesDeleted: 6,
      conversationsDeleted: [ana],
      participantEntriesRemoved: 2,
      erasedAt: T0,
    });

    for (const id of erased) expect(await store.get(id)).toBeUndefined();
    for (const id of kept) expect(await store.get(id)).toBeDefined();
    expect(await store.getConversation(ana)).toBeUndefined();
    const group = await store.getConversation('g1');
    expect(group?.participants.map((p) => p.id).sort()).toEqual([bob, 'bot'].sort());
    expect(group).toMatchObject({ lastSeq: 5, messageCount: 2 });
    expect((await listAll(store, 'g1', { includeDeleted: true })).map((m) => m.content)).toEqual([
      'bob in group',
      'bot to group',
    ]);
    await expectNoHits(entry, () => store.search('ana'));
    expect(await store.listConversations({ participantId: ana })).toStrictEqual({ conversations: [] });
    expect((await exported(store, true)).map((m) => m.id).sort()).toEqual([...kept].sort());
    expect(await store.stats()).toMatchObject({ total: 3, deleted: 0, conversations: 2 });

    // Erasing again, or someone unknown, removes nothing.
    expect(await store.eraseSubject(ana)).toStrictEqual({
      subjectId: ana,
      messagesDeleted: 0,
      conversationsDeleted: [],
      participantEntriesRemoved: 0,
      erasedAt: T0,
    });
  });

  test('compact: true removes what the removal removes, then rewrites the storage; the receipt says which', async () => {
    // Engines that keep removed bytes in their files rewrite them; memory and SQLite keep none.
    const compaction = entry.compaction ?? 'done';
    const { store, alpha, beta, gamma } = await threeMessages();
    await store.append('+15550001', { role: 'user', content: 'ana here', senderId: '+15550001' });
    await store.append('c2', { role: 'user', content: 'ana elsewhere', senderId: '+15550001' });
    await store.append('c3', { role: 'user', content: 'kept', senderId: 'u2' });

    await expectError(store.delete(alpha.id, { compact: true }), 'INVALID_ARGUMENT', 'compact');
    await expectError(store.deleteConversation('c1', { compact: true }), 'INVALID_ARGUMENT', 'compact');
    expect(await store.get(alpha.id)).toStrictEqual(alpha);

    if (compaction === 'unsupported') {
      // The platform lets nobody rewrite the storage: asking is refused, and nothing is removed.
      await expectError(store.delete(alpha.id, { hard: true, compact: true }), 'UNSUPPORTED');
      await expectError(store.eraseSubject('+15550001', { compact: true }), 'UNSUPPORTED');
      await expectError(store.deleteConversation('c1', { hard: true, compact: true }), 'UNSUPPORTED');
      await expectError(store.compact(), 'UNSUPPORTED');
      expect(await store.get(alpha.id)).toStrictEqual(alpha);
      expect(await store.stats()).toMatchObject({ total: 6, conversations: 4 });
      return;
    }

    expect(await store.delete(alpha.id, { hard: true, compact: true })).toBe(true);
    expect(await store.get(alpha.id)).toBeUndefined();
    expect(await store.recent('c1')).toStrictEqual([beta, gamma]);
    expect(await store.eraseSubject('+15550001', { compact: true })).toStrictEqual({
      subjectId: '+15550001',
      messagesDeleted: 2,
      conversationsDeleted: ['+15550001'],
      participantEntriesRemoved: 2,
      erasedAt: T0,
      compaction,
    });
    expect(await store.deleteConversation('c1', { hard: true, compact: true })).toBe(true);
    expect(await store.getConversation('c1')).toBeUndefined();
    expect(await store.delete(alpha.id, { hard: true, compact: true })).toBe(false);
    expect(await store.stats()).toMatchObject({ total: 1, conversations: 2 });
    await expectNoHits(entry, () => store.search('ana'));

    const report = await store.compact();
    expect(Object.keys(report)).toStrictEqual(['rewritten', 'skipped', 'ms']);
    if (compaction === 'not-needed') expect(report).toStrictEqual({ rewritten: [], skipped: [], ms: 0 });
    // SQL engines rewrite their tables; Redis rewrites its AOF and snapshot only when the server keeps them.
    if (!entry.name.startsWith('redis')) expect(report.rewritten.length > 0).toBe(compaction === 'done');
    expect((await store.list('c3')).messages.map((m) => m.content)).toStrictEqual(['kept']);
  });
});
