/** Conversations: created by append or explicitly, counters, participants, metadata, listing (docs/api.md). */
import { describe, expect, test } from 'vitest';
import type { Conversation } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, expectError, freshStore, range, T0, tickingClock } from './harness.js';

const at = (second: number): string => new Date(Date.parse(T0) + second * 1000).toISOString();
const day = (d: number): string => `2026-05-0${d}T00:00:00.000Z`;

describe.each(backends)('conversations on $name', (entry) => {
  test('the first append creates a private conversation with the implied participants', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('+15550001', {
      role: 'user',
      content: 'hi',
      senderId: '+15550001',
      recipientId: 'bot',
    });
    const expected: Conversation = {
      id: '+15550001',
      type: 'private',
      participants: [
        { id: '+15550001', kind: 'human', joinedAt: T0 },
        { id: 'bot', kind: 'bot', joinedAt: T0 },
      ],
      metadata: {},
      createdAt: T0,
      updatedAt: T0,
      lastSeq: 1,
      messageCount: 1,
      lastMessageAt: T0,
    };
    expect(await store.getConversation('+15550001')).toStrictEqual(expected);
    expect(await store.getConversation('nobody')).toBeUndefined();
  });

  test('participants come from senders and recipients by direction and role; existing entries are kept', async () => {
    const store = await freshStore(entry, { now: tickingClock() });
    await store.append('c1', [
      { role: 'assistant', content: 'from the model', senderId: 'ai-1', recipientId: 'u1' },
      { role: 'system', content: 'from a bot', senderId: 'bot-1' },
      { direction: 'incoming', content: 'from a person', senderId: 'u2', recipientId: 'bot-1' },
    ]);
    await store.append('c1', { role: 'user', content: 'again', senderId: 'u1', recipientId: 'ai-1' });
    await store.append('c1', { role: 'assistant', content: 'new bot', senderId: 'bot-2' });
    const conversation = await store.getConversation('c1');
    expect(conversation?.participants).toStrictEqual([
      { id: 'ai-1', kind: 'ai', joinedAt: at(0) },
      { id: 'bot-1', kind: 'bot', joinedAt: at(0) },
      { id: 'u1', kind: 'human', joinedAt: at(0) },
      { id: 'u2', kind: 'human', joinedAt: at(0) },
      { id: 'bot-2', kind: 'ai', joinedAt: at(2) },
    ]);
    expect(conversation).toMatchObject({ createdAt: at(0), updatedAt: at(2), lastSeq: 5, messageCount: 5 });
  });

  test('append can create a group with a title, metadata and participants; later appends do not change them', async () => {
    const store = await freshStore(entry, atT0);
    await store.append(
      'g1',
      { role: 'user', content: 'hello group', senderId: 'u1', createdAt: day(1) },
      {
        conversation: {
          type: 'group',
          title: 'Support',
          metadata: { plan: 'pro' },
          participants: [{ id: 'agent', kind: 'human', name: 'Ana' }],
        },
      },
    );
    await store.append(
      'g1',
      { role: 'assistant', content: 'welcome', createdAt: day(2) },
      { conversation: { type: 'private', title: 'Ignored', metadata: { plan: 'free' } } },
    );
    expect(await store.getConversation('g1')).toStrictEqual({
      id: 'g1',
      type: 'group',
      title: 'Support',
      participants: [
        { id: 'agent', kind: 'human', name: 'Ana', joinedAt: T0 },
        { id: 'u1', kind: 'human', joinedAt: T0 },
      ],
      metadata: { plan: 'pro' },
      createdAt: T0,
      updatedAt: T0,
      lastSeq: 2,
      messageCount: 2,
      lastMessageAt: day(2),
    });
  });

  test('createConversation makes an empty one; CONFLICT when it exists', async () => {
    const store = await freshStore(entry, atT0);
    const created = await store.createConversation('g1', {
      type: 'group',
      title: 'Ops',
      metadata: { tier: 1, tags: ['a'] },
      participants: [
        { id: 'bot', kind: 'bot' },
        { id: 'u1', name: 'Ana' },
        { id: 'bot', kind: 'ai' },
      ],
    });
    const expected: Conversation = {
      id: 'g1',
      type: 'group',
      title: 'Ops',
      participants: [
        { id: 'bot', kind: 'bot', joinedAt: T0 },
        { id: 'u1', kind: 'human', name: 'Ana', joinedAt: T0 },
      ],
      metadata: { tier: 1, tags: ['a'] },
      createdAt: T0,
      updatedAt: T0,
      lastSeq: 0,
      messageCount: 0,
    };
    expect(created).toStrictEqual(expected);
    expect(await store.getConversation('g1')).toStrictEqual(expected);
    expect(await store.createConversation('plain')).toStrictEqual({
      id: 'plain',
      type: 'private',
      participants: [],
      metadata: {},
      createdAt: T0,
      updatedAt: T0,
      lastSeq: 0,
      messageCount: 0,
    });
    await expectError(store.createConversation('g1', { title: 'again' }), 'CONFLICT');
    await store.append('by-append', { role: 'user', content: 'x' });
    await expectError(store.createConversation('by-append'), 'CONFLICT');
    expect(await store.getConversation('g1')).toStrictEqual(expected);
    const [first] = await store.append('g1', { role: 'user', content: 'first' });
    expect(first?.message.seq).toBe(1);
    expect(await store.getConversation('g1')).toMatchObject({ type: 'group', title: 'Ops', lastSeq: 1 });
  });

  test('updateConversation merges metadata (null removes), sets or clears title and type', async () => {
    const store = await freshStore(entry, { now: tickingClock() });
    await store.createConversation('c1', {
      title: 'Old',
      metadata: { language: 'en', profile: { name: 'Ana', age: 30 }, remove: true, list: [1, 2] },
    });
    const updated = await store.updateConversation('c1', {
      type: 'group',
      metadata: { profile: { age: null, city: 'Lima' }, remove: null, list: [3], added: 'yes' },
    });
    const expected: Conversation = {
      id: 'c1',
      type: 'group',
      title: 'Old',
      participants: [],
      metadata: { language: 'en', profile: { name: 'Ana', city: 'Lima' }, list: [3], added: 'yes' },
      createdAt: at(0),
      updatedAt: at(1),
      lastSeq: 0,
      messageCount: 0,
    };
    expect(updated).toStrictEqual(expected);
    expect(await store.getConversation('c1')).toStrictEqual(expected);
    const untitled = await store.updateConversation('c1', { title: null });
    const { title: _removed, ...withoutTitle } = expected;
    expect(untitled).toStrictEqual({ ...withoutTitle, updatedAt: at(2) });
    expect(await store.updateConversation('c1', { title: 'New' })).toMatchObject({ title: 'New' });
    await expectError(store.updateConversation('nobody', { title: 'x' }), 'NOT_FOUND');
    await expectError(store.updateConversation('c1', { metadata: { bad: Number.NaN } }), 'INVALID_ARGUMENT');
    await expectError(store.updateConversation('c1', { colour: 'red' } as never), 'INVALID_ARGUMENT');
  });

  test('concurrent metadata updates of different keys all survive', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'x' });
    await Promise.all(range(1, 20).map((i) => store.updateConversation('c1', { metadata: { [`key${i}`]: i } })));
    expect((await store.getConversation('c1'))?.metadata).toStrictEqual(
      Object.fromEntries(range(1, 20).map((i) => [`key${i}`, i])),
    );
  });

  test('participants are added once and removed', async () => {
    const store = await freshStore(entry, { now: tickingClock() });
    await store.createConversation('g1', { participants: [{ id: 'u1', name: 'Ana' }] });
    const added = await store.addParticipants('g1', [
      { id: 'u1', name: 'Renamed', kind: 'bot' },
      { id: 'u2', kind: 'ai', name: 'Helper' },
      { id: 'u3' },
    ]);
    expect(added.participants).toStrictEqual([
      { id: 'u1', kind: 'human', name: 'Ana', joinedAt: at(0) },
      { id: 'u2', kind: 'ai', name: 'Helper', joinedAt: at(1) },
      { id: 'u3', kind: 'human', joinedAt: at(1) },
    ]);
    expect(await store.getConversation('g1')).toStrictEqual(added);
    const removed = await store.removeParticipant('g1', 'u2');
    expect(removed.participants.map((p) => p.id)).toEqual(['u1', 'u3']);
    expect((await store.removeParticipant('g1', 'not-a-member')).participants.map((p) => p.id)).toEqual(['u1', 'u3']);
    expect(await store.getConversation('g1')).toMatchObject({ participants: removed.participants });
    expect((await store.listConversations({ participantId: 'u2' })).conversations).toEqual([]);
    await expectError(store.addParticipants('nobody', [{ id: 'u1' }]), 'NOT_FOUND');
    await expectError(store.removeParticipant('nobody', 'u1'), 'NOT_FOUND');
    await expectError(store.addParticipants('g1', [{ id: '' }]), 'INVALID_ARGUMENT', 'participants[0].id');
  });

  test('listConversations: newest activity first, paginated, filtered by participant and type', async () => {
    const store = await freshStore(entry, atT0);
    await store.createConversation('empty', { type: 'group', participants: [{ id: 'u1' }] });
    await store.append('old', { role: 'user', content: 'x', senderId: 'u1', createdAt: day(1) });
    await store.append('new', { role: 'user', content: 'x', senderId: 'u2', createdAt: day(3) });
    await store.append('mid', { role: 'user', content: 'x', senderId: 'u1', createdAt: day(2) });
    await store.append(
      'mid-b',
      { role: 'user', content: 'x', senderId: 'u2', createdAt: day(2) },
      {
        conversation: { type: 'group' },
      },
    );
    const byId = async (id: string) => (await store.getConversation(id)) as Conversation;

    const first = await store.listConversations({ limit: 2 });
    expect(first.conversations).toStrictEqual([await byId('new'), await byId('mid-b')]);
    const second = await store.listConversations({ limit: 2, cursor: first.next as string });
    expect(second.conversations).toStrictEqual([await byId('mid'), await byId('old')]);
    const third = await store.listConversations({ limit: 2, cursor: second.next as string });
    expect(third).toStrictEqual({ conversations: [await byId('empty')] });
    expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual([
      'new',
      'mid-b',
      'mid',
      'old',
      'empty',
    ]);
    expect((await store.listConversations({ participantId: 'u1' })).conversations.map((c) => c.id)).toEqual([
      'mid',
      'old',
      'empty',
    ]);
    expect((await store.listConversations({ type: 'group' })).conversations.map((c) => c.id)).toEqual([
      'mid-b',
      'empty',
    ]);
    const groupsOfU2 = await store.listConversations({ type: 'group', participantId: 'u2', limit: 1 });
    expect(groupsOfU2).toStrictEqual({ conversations: [await byId('mid-b')] });
    expect(await store.listConversations({ participantId: 'nobody' })).toStrictEqual({ conversations: [] });

    // New activity moves a conversation to the front.
    await store.append('old', { role: 'user', content: 'y', createdAt: day(4) });
    expect((await store.listConversations({ limit: 1 })).conversations.map((c) => c.id)).toEqual(['old']);
    await expectError(store.listConversations({ limit: 0 }), 'INVALID_ARGUMENT', 'limit');
    await expectError(store.listConversations({ cursor: 'nope' }), 'INVALID_ARGUMENT', 'cursor');
  });
});
