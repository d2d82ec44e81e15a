/**
 * Export, then restore into an empty store, reproduces the store: the same lines byte for byte
 * (conversations with their attributes, participants and times; messages with their seqs, gaps,
 * edits, soft deletes, statuses and commands as stored), the same counts and listing; restoring
 * again stores nothing. On every engine, and from the memory engine into each (engines agree).
 */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { AppendResult, Conversation, Message } from '../../src/model.js';
import type { ChatStoreOptions, ExportRecord } from '../../src/store.js';
import { ALL_BACKENDS, backends } from './backends.js';
import { expectError, expectSearch, freshStore, hasSearch, tickingClock } from './harness.js';

/** A deterministic store: a clock that ticks a second per reading, ids counted. */
function deterministic(): ChatStoreOptions {
  let next = 0;
  return {
    now: tickingClock(),
    newId: () => `gen-${String(++next).padStart(4, '0')}`,
    commands: { admin: ['ban'] },
  };
}

const SHA = 'cd'.repeat(32);

/** A store with a bit of everything export and restore must carry. */
async function buildVariedStore(store: ChatStoreApi): Promise<void> {
  await store.createConversation('group-1', {
    type: 'group',
    title: 'Ops',
    metadata: { plan: 'pro', nested: { list: [1, 'two', null, { x: true }] }, '🔑': 'ü' },
    participants: [
      { id: 'ana', kind: 'human', name: 'Ana' },
      { id: 'helper', kind: 'bot', name: 'Helper Bot' },
      { id: 'gpt', kind: 'ai' },
      { id: 'sys', kind: 'system', name: 'System' },
    ],
  });
  await store.append('group-1', [
    { role: 'user', content: '/help me', senderId: 'ana', recipientId: 'helper', externalId: 'tg.1' },
    { role: 'user', content: '/ban troll', senderId: 'ana', recipientId: 'helper' },
    // Stored with command detection off: must stay without a command.
    { role: 'user', content: '/start quietly', senderId: 'ana', command: null },
    { role: 'user', content: '!later', senderId: 'bob', command: { name: 'custom', admin: true } },
  ]);
  const [question] = await store.append('group-1', {
    id: 'q-1',
    role: 'user',
    content: 'Where is my refund for order 42?',
    senderId: 'ana',
    createdAt: '2025-12-31T23:59:59.999Z',
    metadata: { channel: 'web', tags: ['billing'] },
  });
  await store.append('group-1', {
    id: 'a-1',
    externalId: 'tg.2',
    role: 'assistant',
    direction: 'outgoing',
    senderId: 'gpt',
    recipientId: 'ana',
    content: 'Your refund is on its way 💸',
    parts: [{ type: 'text', text: 'Your refund' }, { type: 'tool-call', toolName: 'refund', input: { order: 42 } }, 7],
    media: [
      { url: 'https://cdn.example/r.pdf', type: 'document', mimeType: 'application/pdf', size: 1024, sha256: SHA },
      { url: 'https://cdn.example/r.png', type: 'image', providerId: 'p-1' },
    ],
    status: 'queued',
    replyTo: question?.message.id as string,
    metadata: { model: 'gpt', cost: 0.25 },
  });
  await store.updateStatus('a-1', 'sent');
  await store.updateStatus('tg.2', 'read', { conversationId: 'group-1', at: '2026-01-02T04:00:00Z' });
  await store.edit('q-1', { content: 'Where is my refund for order 43?', metadata: { tags: null, edited: true } });
  await store.updateConversation('group-1', { title: 'Ops team', metadata: { plan: null, tier: 2 } });
  await store.removeParticipant('group-1', 'sys');
  await store.addParticipants('group-1', [{ id: 'zoe', kind: 'human', name: 'Zoë' }]);

  // A private conversation made by its first append: statuses, a failure with its error, deletes.
  const phone = '+15550001';
  await store.append(phone, [
    { role: 'user', content: 'hola', senderId: phone, recipientId: 'bot', externalId: 'wamid.1' },
    { role: 'assistant', content: 'Hola, ¿qué tal?', senderId: 'bot', recipientId: phone, status: 'sent' },
    { role: 'assistant', content: 'promo', senderId: 'bot', recipientId: phone, status: 'sent', externalId: 'wamid.3' },
    { role: 'system', content: 'handover', direction: 'outgoing' },
    { role: 'tool', content: '{"ok":true}', metadata: { tool: 'crm' } },
    { role: 'user', content: 'gracias', senderId: phone, externalId: 'wamid.6' },
    { role: 'user', content: 'the last one', senderId: phone },
  ]);
  await store.updateStatus('wamid.3', 'failed', { error: { code: '131049', message: 'ecosystem limit' } });
  await store.updateStatus('gen-0006', 'delivered');
  await store.delete('gen-0008'); // soft: the system message
  await store.delete('gen-0009', { hard: true }); // a gap in the middle
  await store.delete('gen-0011', { hard: true }); // the last one: lastSeq stays above the last message
  await store.edit('gen-0010', { content: 'muchas gracias' });

  // Created and never written to; soft-deleted with its messages; one whose only message was removed.
  await store.createConversation('empty', { type: 'channel', title: 'Announcements', metadata: { locale: 'es' } });
  await store.append('gone', [
    { role: 'user', content: 'delete me', senderId: 'u9' },
    { role: 'assistant', content: 'ok', status: 'delivered' },
  ]);
  await store.deleteConversation('gone');
  await store.append('emptied', { id: 'lonely', role: 'user', content: 'bye', senderId: 'u8' });
  await store.delete('lonely', { hard: true });

  // Long enough for several restore batches, with a gap and a soft delete inside.
  const many = Array.from({ length: 23 }, (_, i) => ({
    id: `long-${String(i + 1).padStart(2, '0')}`,
    role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: `message ${i + 1} of the long refund thread`,
    createdAt: new Date(Date.UTC(2025, 5, 1, 0, i)),
  }));
  await store.append('long', many.slice(0, 12));
  await store.append('long', many.slice(12));
  await store.delete('long-05', { hard: true });
  await store.delete('long-17');
}

/** Every record of a full export (soft-deleted included), as JSON lines. */
async function exportLines(store: ChatStoreApi): Promise<string[]> {
  const lines: string[] = [];
  for await (const record of store.exportRecords({ includeDeleted: true })) lines.push(JSON.stringify(record));
  return lines;
}

/** Restores export lines as `chatstore import` does: per conversation, in batches. */
async function restoreLines(store: ChatStoreApi, lines: string[], batch: number): Promise<AppendResult[]> {
  const groups: { id: string; conversation?: Conversation; messages: Message[] }[] = [];
  for (const line of lines) {
    const record = JSON.parse(line) as ExportRecord;
    if ('conversation' in record)
      groups.push({ id: record.conversation.id, conversation: record.conversation, messages: [] });
    else (groups.at(-1) as { messages: Message[] }).messages.push(record);
  }
  const results: AppendResult[] = [];
  for (const group of groups) {
    const conversation = group.conversation as Conversation;
    if (group.messages.length === 0) results.push(...(await store.restore(group.id, [], { conversation })));
    for (let start = 0; start < group.messages.length; start += batch) {
      const more = start + batch < group.messages.length;
      results.push(
        ...(await store.restore(group.id, group.messages.slice(start, start + batch), {
          conversation,
          ...(more ? { more } : {}),
        })),
      );
    }
  }
  return results;
}

async function everyConversation(store: ChatStoreApi): Promise<Conversation[]> {
  return (await store.listConversations({ includeDeleted: true, limit: 100 })).conversations;
}

const memory = ALL_BACKENDS.find((entry) => entry.name === 'memory');

describe.each(backends)('export and restore on $name', (entry) => {
  test('restoring a full export into an empty store reproduces it byte for byte; again stores nothing', async () => {
    const source = await freshStore(entry, deterministic());
    await buildVariedStore(source);
    const lines = await exportLines(source);
    expect(lines.filter((line) => line.startsWith('{"conversation":'))).toHaveLength(6);

    const copy = await freshStore(entry, deterministic());
    const results = await restoreLines(copy, lines, 5);
    const messageCount = lines.length - 6;
    expect(results.filter((r) => !r.duplicate)).toHaveLength(messageCount);
    expect(await exportLines(copy)).toStrictEqual(lines);
    expect(await copy.stats()).toStrictEqual(await source.stats());
    for (const id of ['group-1', '+15550001', 'long'])
      expect(await copy.stats(id)).toStrictEqual(await source.stats(id));
    expect(await everyConversation(copy)).toStrictEqual(await everyConversation(source));
    expect(await copy.listConversations({ participantId: 'ana' })).toStrictEqual(
      await source.listConversations({ participantId: 'ana' }),
    );
    const sourceHits = hasSearch(entry) ? (await source.search('refund', { limit: 100 })).hits : [];
    await expectSearch(
      entry,
      () => copy.search('refund', { limit: 100 }),
      (page) => {
        expect(page.hits).toHaveLength(23);
        expect(page.hits.map((hit) => hit.message.id).sort()).toStrictEqual(
          sourceHits.map((hit) => hit.message.id).sort(),
        );
      },
    );

    // Again, in other batches: everything is a duplicate and nothing changes.
    const again = await restoreLines(copy, lines, 7);
    expect(again.every((r) => r.duplicate)).toBe(true);
    expect(again).toHaveLength(messageCount);
    expect(await exportLines(copy)).toStrictEqual(lines);

    // Seqs continue where the source's do: after the hard-deleted tail.
    const [next] = await copy.append('+15550001', { id: 'after-1', role: 'user', content: 'back again' });
    const [sourceNext] = await source.append('+15550001', { id: 'after-1', role: 'user', content: 'back again' });
    expect(next?.message.seq).toBe(8);
    expect(sourceNext?.message.seq).toBe(8);
  });

  test('a restore from the memory engine gives this engine the same export', async () => {
    if (memory === undefined) throw new Error('no memory backend');
    const { store: reference, cleanup } = await memory.open(deterministic());
    let lines: string[];
    try {
      await buildVariedStore(reference);
      lines = await exportLines(reference);
    } finally {
      await cleanup();
    }
    const source = await freshStore(entry, deterministic());
    await buildVariedStore(source);
    expect(await exportLines(source)).toStrictEqual(lines);
    const copy = await freshStore(entry);
    await restoreLines(copy, lines, 1000);
    expect(await exportLines(copy)).toStrictEqual(lines);
  });

  test('a stored seq must be above lastSeq unless the message is stored; stored values are checked', async () => {
    const store = await freshStore(entry, deterministic());
    const base = {
      conversationId: 'c1',
      role: 'user',
      direction: 'incoming',
      content: 'x',
      createdAt: '2026-01-01T00:00:00.000Z',
    } as const;
    const restored = await store.restore('c1', [
      { ...base, id: 'r1', seq: 3 },
      { ...base, id: 'r2', seq: 7, deletedAt: '2026-01-01T00:00:01.000Z', editedAt: '2026-01-01T00:00:02.000Z' },
    ]);
    expect(restored.map((r) => [r.message.seq, r.duplicate])).toStrictEqual([
      [3, false],
      [7, false],
    ]);
    expect(await store.getConversation('c1')).toMatchObject({ type: 'private', lastSeq: 7, messageCount: 2 });
    // A stored id is a duplicate, whatever seq it is given; a new one below lastSeq is a conflict.
    expect(await store.restore('c1', [{ ...base, id: 'r1', seq: 9 }])).toStrictEqual([
      { message: restored[0]?.message, duplicate: true },
    ]);
    await expectError(store.restore('c1', [{ ...base, id: 'r3', seq: 5 }]), 'CONFLICT');
    await expectError(store.restore('c2', [{ ...base, conversationId: 'c2', id: 'r1', seq: 1 }]), 'CONFLICT');
    expect(await store.getConversation('c2')).toBeUndefined();
    // Appends continue after the restored seqs.
    const [appended] = await store.append('c1', { role: 'user', content: '/cmd' });
    expect(appended?.message).toMatchObject({ seq: 8, command: { name: 'cmd', admin: false } });

    const bad: [unknown[], string][] = [
      [[{ ...base, id: 'b1' }], 'messages[0].seq'],
      [[{ ...base, id: 'b1', seq: 0 }], 'messages[0].seq'],
      [[{ ...base, id: 'b1', seq: 1.5 }], 'messages[0].seq'],
      [
        [
          { ...base, id: 'b1', seq: 20 },
          { ...base, id: 'b2', seq: 20 },
        ],
        'messages[1].seq',
      ],
      [[{ ...base, id: 'b1', seq: 20, conversationId: 'other' }], 'messages[0].conversationId'],
      [[{ ...base, seq: 20 }], 'messages[0].id'],
      [[{ ...base, id: 'b1', seq: 20, createdAt: undefined }], 'messages[0].createdAt'],
      [[{ ...base, id: 'b1', seq: 20, direction: undefined }], 'messages[0].direction'],
      [[{ ...base, id: 'b1', seq: 20, command: null }], 'messages[0].command'],
      [[{ ...base, id: 'b1', seq: 20, editedAt: '2026-02-30T00:00:00Z' }], 'messages[0].editedAt'],
      [[{ ...base, id: 'b1', seq: 20, surprise: 1 }], 'messages[0].surprise'],
      [[], 'messages'],
    ];
    for (const [messages, path] of bad) {
      await expectError(store.restore('c1', messages as Message[]), 'INVALID_ARGUMENT', path);
    }
    const conversation = (await store.getConversation('c1')) as Conversation;
    await expectError(
      store.restore('c1', [], { conversation: { ...conversation, id: 'c9' } }),
      'INVALID_ARGUMENT',
      'conversation.id',
    );
    await expectError(
      store.restore('c1', [], {
        conversation: { ...conversation, participants: [{ id: 'p', kind: 'robot' }] } as never,
      }),
      'INVALID_ARGUMENT',
      'conversation.participants[0].kind',
    );
    expect(await store.getConversation('c1')).toStrictEqual(conversation);
  });

  test('a conversation restored alone is created with its record; once it exists, nothing changes', async () => {
    const store = await freshStore(entry, deterministic());
    const record: Conversation = {
      id: 'g',
      type: 'group',
      title: 'Empty',
      participants: [
        { id: 'b', kind: 'bot', joinedAt: '2020-01-01T00:00:00.000Z' },
        { id: 'a', kind: 'human', name: 'A', joinedAt: '2020-01-01T00:00:00.000Z' },
      ],
      metadata: { k: [1] },
      createdAt: '2020-01-01T00:00:00.000Z',
      updatedAt: '2020-02-01T00:00:00.000Z',
      lastSeq: 4,
      messageCount: 0,
      lastMessageAt: '2020-01-15T00:00:00.000Z',
      deletedAt: '2020-02-01T00:00:00.000Z',
    };
    expect(await store.restore('g', [], { conversation: record })).toStrictEqual([]);
    const expected = { ...record, participants: [record.participants[1], record.participants[0]] };
    expect(await store.getConversation('g')).toStrictEqual(expected);
    expect(await store.restore('g', [], { conversation: { ...record, title: 'Other', lastSeq: 9 } })).toStrictEqual([]);
    expect(await store.getConversation('g')).toStrictEqual(expected);
    expect(await store.listConversations({ includeDeleted: true })).toStrictEqual({ conversations: [expected] });
  });
});
