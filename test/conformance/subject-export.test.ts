/**
 * The subject access export (`exportSubject`, GDPR Art. 15) is the mirror of erasure: on every
 * engine, what it returns is exactly what `eraseSubject` then removes (docs/api.md).
 */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { Conversation, Message } from '../../src/model.js';
import type { SubjectConversation, SubjectExportRecord } from '../../src/store.js';
import { backends } from './backends.js';
import { atT0, expectError, freshStore, listAll, T0 } from './harness.js';

const ana = '+15550001';
const bob = '+15550002';
const FAR_FUTURE = '2999-01-01T00:00:00.000Z';

async function subjectRecords(store: ChatStoreApi, subjectId: string): Promise<SubjectExportRecord[]> {
  const records: SubjectExportRecord[] = [];
  for await (const record of store.exportSubject(subjectId)) records.push(record);
  return records;
}

async function everything(store: ChatStoreApi): Promise<Message[]> {
  const all: Message[] = [];
  for await (const message of store.export({ includeDeleted: true })) all.push(message);
  return all;
}

const isMessage = (record: SubjectExportRecord): record is Message =>
  !('subject' in record || 'conversation' in record);

/** A conversation of others as the export shows it: where it is, and the subject's own entry. */
function view(conversation: Conversation | undefined, subjectId: string): SubjectConversation {
  if (conversation === undefined) throw new Error('no such conversation');
  const entry = conversation.participants.find((p) => p.id === subjectId);
  return {
    id: conversation.id,
    type: conversation.type,
    ...(conversation.title === undefined ? {} : { title: conversation.title }),
    ...(conversation.channel === undefined ? {} : { channel: conversation.channel }),
    participants: entry === undefined ? [] : [entry],
    createdAt: conversation.createdAt,
    ...(conversation.deletedAt === undefined ? {} : { deletedAt: conversation.deletedAt }),
  };
}

describe.each(backends)('subject access export on $name', (entry) => {
  /**
   * Ana's own conversation; a group she writes in and is written to, with one of her messages
   * soft-deleted; a soft-deleted group she is only a member of; a group she left after writing;
   * Bob's private conversation. Returns the ids of Ana's messages in export order.
   */
  async function anaEverywhere(store: ChatStoreApi): Promise<string[]> {
    const ids: string[] = [];
    const add = async (conversationId: string, message: Parameters<ChatStoreApi['append']>[1], hers: boolean) => {
      const [result] = await store.append(conversationId, message, { conversation: { channel: 'whatsapp' } });
      const stored = result?.message as Message;
      if (hers) ids.push(stored.id);
      return stored;
    };
    await add(ana, { role: 'user', content: 'hola soy ana', senderId: ana, recipientId: 'bot' }, true);
    await add(ana, { role: 'assistant', content: 'hola ana', senderId: 'bot', recipientId: ana }, true);
    // In her own conversation, even a message naming nobody is hers.
    await add(ana, { role: 'system', content: 'session started' }, true);
    await add('g1', { role: 'user', content: 'ana in group', senderId: ana }, true);
    await add('g1', { role: 'user', content: 'bob in group', senderId: bob }, false);
    await add('g1', { role: 'assistant', content: 'bot to group', senderId: 'bot' }, false);
    await add('g1', { role: 'assistant', content: 'reply to ana', senderId: 'bot', recipientId: ana }, true);
    const hidden = await add('g1', { role: 'user', content: 'ana deleted later', senderId: ana }, true);
    await store.delete(hidden.id);
    await store.createConversation('g2', {
      type: 'group',
      title: 'Book club',
      metadata: { secret: 'not hers' },
      participants: [
        { id: ana, kind: 'human', name: 'Ana' },
        { id: bob, kind: 'human', name: 'Bob' },
      ],
    });
    await add('g2', { role: 'user', content: 'bob only', senderId: bob }, false);
    await store.deleteConversation('g2');
    await add('g3', { role: 'user', content: 'ana before leaving', senderId: ana }, true);
    await add('g3', { role: 'user', content: 'bob stays', senderId: bob }, false);
    await store.removeParticipant('g3', ana);
    await add(bob, { role: 'user', content: 'bob private', senderId: bob, recipientId: 'bot' }, false);
    return ids;
  }

  /** With an archive, moves every conversation there first; without one, says so. Either way the export is the same. */
  async function archiveAllIfPossible(store: ChatStoreApi): Promise<boolean> {
    if ((await store.archiveStats()) === undefined) {
      await expectError(store.archive({ before: FAR_FUTURE }), 'UNSUPPORTED');
      return false;
    }
    expect((await store.archive({ before: FAR_FUTURE })).archived).toHaveLength(5);
    expect((await store.archiveStats())?.conversations).toBe(5);
    return true;
  }

  test.each([
    ['in the database', false],
    ['archived too', true],
  ])('returns everything stored about the person (%s), exactly what eraseSubject then removes', async (_, archive) => {
    const store = await freshStore(entry, atT0);
    const hers = await anaEverywhere(store);
    const own = await store.getConversation(ana);
    const g1 = await store.getConversation('g1');
    const g2 = await store.getConversation('g2');
    const g3 = await store.getConversation('g3');
    const byId = new Map((await everything(store)).map((m) => [m.id, m]));
    const message = (i: number) => byId.get(hers[i] as string);
    if (archive) await archiveAllIfPossible(store);

    const records = await subjectRecords(store, ana);
    expect(records).toStrictEqual([
      { subject: { id: ana, exportedAt: T0 } },
      { conversation: own },
      ...(await listAll(store, ana, { includeDeleted: true })),
      { conversation: view(g1, ana) },
      message(3),
      message(4),
      message(5),
      { conversation: view(g2, ana) },
      { conversation: view(g3, ana) },
      message(6),
    ]);
    // The other people's part of a conversation she is in stays out; her own conversation is hers whole.
    expect(view(g1, ana).participants.map((p) => p.id)).toStrictEqual([ana]);
    expect(view(g2, ana)).toMatchObject({ deletedAt: T0, participants: [{ name: 'Ana' }] });
    expect(view(g3, ana).participants).toStrictEqual([]);
    expect(records.filter(isMessage).map((m) => m.id)).toStrictEqual(hers);
    expect(records.filter(isMessage).some((m) => m.deletedAt !== undefined)).toBe(true);

    // The mirror: the receipt counts what the export returned, and only that is gone.
    const before = await everything(store);
    const conversations = records.flatMap((r) => ('conversation' in r ? [r.conversation] : []));
    const receipt = await store.eraseSubject(ana);
    expect(receipt).toMatchObject({
      messagesDeleted: records.filter(isMessage).length,
      conversationsDeleted: conversations.filter((c) => c.id === ana).map((c) => c.id),
      participantEntriesRemoved: conversations.filter((c) => c.participants.some((p) => p.id === ana)).length,
    });
    expect(receipt).toMatchObject({ messagesDeleted: 7, conversationsDeleted: [ana], participantEntriesRemoved: 3 });
    const exportedIds = new Set(hers);
    expect(await everything(store)).toStrictEqual(before.filter((m) => !exportedIds.has(m.id)));
    expect(await subjectRecords(store, ana)).toStrictEqual([{ subject: { id: ana, exportedAt: T0 } }]);
  });

  test("other people's messages and conversations are not included; someone unknown gets the header alone", async () => {
    const store = await freshStore(entry, atT0);
    await anaEverywhere(store);
    const records = await subjectRecords(store, bob);
    const messages = records.filter(isMessage);
    expect(messages.map((m) => m.content)).toStrictEqual(['bob private', 'bob in group', 'bob only', 'bob stays']);
    expect(messages.every((m) => m.senderId === bob || m.recipientId === bob || m.conversationId === bob)).toBe(true);
    expect(records.flatMap((r) => ('conversation' in r ? [r.conversation.id] : []))).toStrictEqual([
      bob,
      'g1',
      'g2',
      'g3',
    ]);
    expect(JSON.stringify(records)).not.toContain(ana);
    expect(JSON.stringify(records)).not.toContain('Ana');
    expect(await subjectRecords(store, 'nobody')).toStrictEqual([{ subject: { id: 'nobody', exportedAt: T0 } }]);
  });

  test('reads long conversations page by page, in seq order', async () => {
    const store = await freshStore(entry, atT0);
    const many = Array.from({ length: 1001 }, (_, i) => ({
      role: 'user' as const,
      content: `line ${i + 1}`,
      senderId: i % 250 === 0 ? ana : bob,
    }));
    await store.append('big', many.slice(0, 1000));
    await store.append('big', many.slice(1000));
    await store.append(ana, many.slice(0, 501));
    const messages = (await subjectRecords(store, ana)).filter(isMessage);
    expect(messages.filter((m) => m.conversationId === ana).map((m) => m.seq)).toStrictEqual(
      Array.from({ length: 501 }, (_, i) => i + 1),
    );
    expect(messages.filter((m) => m.conversationId === 'big').map((m) => m.seq)).toStrictEqual([
      1, 251, 501, 751, 1001,
    ]);
    expect((await store.eraseSubject(ana)).messagesDeleted).toBe(messages.length);
  });

  test('a bad id is INVALID_ARGUMENT, a closed store UNAVAILABLE: never an empty export', async () => {
    const store = await freshStore(entry, atT0);
    await store.append(ana, { role: 'user', content: 'hi', senderId: ana });
    await expectError(subjectRecords(store, ''), 'INVALID_ARGUMENT', 'participantId');
    await expectError(subjectRecords(store, 'x'.repeat(256)), 'INVALID_ARGUMENT', 'participantId');
    await expectError(subjectRecords(store, 42 as unknown as string), 'INVALID_ARGUMENT', 'participantId');
    await store.close();
    await expectError(subjectRecords(store, ana), 'UNAVAILABLE');
  });
});
