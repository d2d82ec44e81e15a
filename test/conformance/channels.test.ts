/** Channels: where a conversation lives, set at creation or by a patch, listed by and counted (docs/api.md). */
import { describe, expect, test } from 'vitest';
import type { Conversation } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, expectError, freshStore } from './harness.js';

const day = (d: number): string => `2026-05-0${d}T00:00:00.000Z`;

describe.each(backends)('channels on $name', (entry) => {
  test('a conversation gets its channel when created, by append or explicitly, and a patch changes or removes it', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('+15550001', { role: 'user', content: 'hi' }, { conversation: { channel: 'whatsapp' } });
    expect((await store.getConversation('+15550001'))?.channel).toBe('whatsapp');
    // Only the call that creates the conversation sets it.
    await store.append('+15550001', { role: 'user', content: 'again' }, { conversation: { channel: 'sms' } });
    expect((await store.getConversation('+15550001'))?.channel).toBe('whatsapp');

    const created = await store.createConversation('t-42', { type: 'group', title: 'Ops', channel: 'telegram' });
    expect(Object.keys(created)).toEqual([
      'id',
      'type',
      'title',
      'channel',
      'participants',
      'metadata',
      'createdAt',
      'updatedAt',
      'lastSeq',
      'messageCount',
    ]);
    expect(created.channel).toBe('telegram');

    await store.append('web-1', { role: 'user', content: 'no channel' });
    expect((await store.getConversation('web-1'))?.channel).toBeUndefined();
    expect((await store.updateConversation('web-1', { channel: 'web' })).channel).toBe('web');
    // Leaving it out of a patch keeps it; null removes it.
    expect((await store.updateConversation('web-1', { title: 'Site chat' })).channel).toBe('web');
    const cleared = await store.updateConversation('web-1', { channel: null });
    expect(cleared.channel).toBeUndefined();
    expect(cleared.title).toBe('Site chat');
    expect(await store.getConversation('web-1')).toStrictEqual(cleared);
  });

  test('listConversations filters by channel, newest activity first, with a cursor and with the other filters', async () => {
    const store = await freshStore(entry, atT0);
    const on = (channel: string) => ({ conversation: { channel } });
    await store.append('wa-old', { role: 'user', content: 'x', senderId: 'u1', createdAt: day(1) }, on('whatsapp'));
    await store.append('sms-1', { role: 'user', content: 'x', senderId: 'u1', createdAt: day(2) }, on('sms'));
    await store.append('wa-new', { role: 'user', content: 'x', senderId: 'u2', createdAt: day(4) }, on('whatsapp'));
    await store.append('wa-mid', { role: 'user', content: 'x', senderId: 'u1', createdAt: day(3) }, on('whatsapp'));
    await store.append('none', { role: 'user', content: 'x', senderId: 'u1', createdAt: day(5) });
    await store.createConversation('wa-group', { type: 'group', channel: 'whatsapp', participants: [{ id: 'u2' }] });
    const byId = async (id: string) => (await store.getConversation(id)) as Conversation;

    const ids = async (options: Parameters<typeof store.listConversations>[0]) =>
      (await store.listConversations(options)).conversations.map((c) => c.id);
    expect(await ids({ channel: 'whatsapp' })).toEqual(['wa-new', 'wa-mid', 'wa-old', 'wa-group']);
    const first = await store.listConversations({ channel: 'whatsapp', limit: 2 });
    expect(first.conversations).toStrictEqual([await byId('wa-new'), await byId('wa-mid')]);
    const second = await store.listConversations({ channel: 'whatsapp', limit: 2, cursor: first.next as string });
    expect(second).toStrictEqual({ conversations: [await byId('wa-old'), await byId('wa-group')] });
    expect(await ids({ channel: 'sms' })).toEqual(['sms-1']);
    expect(await ids({ channel: 'telegram' })).toEqual([]);
    expect(await ids({ channel: 'whatsapp', participantId: 'u1' })).toEqual(['wa-mid', 'wa-old']);
    expect(await ids({ channel: 'whatsapp', type: 'group' })).toEqual(['wa-group']);

    await store.deleteConversation('wa-mid');
    expect(await ids({ channel: 'whatsapp' })).toEqual(['wa-new', 'wa-old', 'wa-group']);
    expect(await ids({ channel: 'whatsapp', includeDeleted: true })).toEqual([
      'wa-new',
      'wa-mid',
      'wa-old',
      'wa-group',
    ]);
    await store.updateConversation('wa-old', { channel: 'sms' });
    expect(await ids({ channel: 'sms' })).toEqual(['sms-1', 'wa-old']);
  });

  test('stats counts conversations and their live messages per channel', async () => {
    const store = await freshStore(entry, atT0);
    await store.append(
      'wa-1',
      [
        { role: 'user', content: 'a' },
        { id: 'soft', role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
      { conversation: { channel: 'whatsapp' } },
    );
    await store.delete('soft');
    await store.append('wa-2', { role: 'user', content: 'd' }, { conversation: { channel: 'whatsapp' } });
    await store.append('sms-1', { role: 'user', content: 'e' }, { conversation: { channel: 'sms' } });
    await store.append('gone', { role: 'user', content: 'f' }, { conversation: { channel: 'telegram' } });
    await store.deleteConversation('gone');
    await store.append('none', { role: 'user', content: 'g' });
    await store.createConversation('quiet', { channel: 'web' });

    const all = await store.stats();
    expect(all.total).toBe(5);
    expect(all.conversations).toBe(5);
    // A channel whose only conversation is deleted (and so are its messages) is not listed.
    expect(all.byChannel).toStrictEqual({
      sms: { conversations: 1, messages: 1 },
      web: { conversations: 1, messages: 0 },
      whatsapp: { conversations: 2, messages: 3 },
    });
    expect(Object.keys(all.byChannel)).toEqual(['sms', 'web', 'whatsapp']);
    expect((await store.stats('wa-1')).byChannel).toStrictEqual({ whatsapp: { conversations: 1, messages: 2 } });
    expect((await store.stats('none')).byChannel).toStrictEqual({});
    expect((await store.stats('nobody')).byChannel).toStrictEqual({});
  });

  test('a channel is a lowercase token; anything else is INVALID_ARGUMENT and stores nothing', async () => {
    const store = await freshStore(entry, atT0);
    for (const channel of ['', 'WhatsApp', 'what sapp', '-sms', 'x'.repeat(33), 42]) {
      await expectError(
        store.append('c', { role: 'user', content: 'x' }, { conversation: { channel } as never }),
        'INVALID_ARGUMENT',
        'conversation.channel',
      );
      await expectError(
        store.createConversation('c', { channel } as never),
        'INVALID_ARGUMENT',
        'conversation.channel',
      );
      await expectError(store.listConversations({ channel } as never), 'INVALID_ARGUMENT', 'channel');
    }
    expect(await store.getConversation('c')).toBeUndefined();
    await store.createConversation('c', { channel: 'x'.repeat(32) });
    await expectError(store.updateConversation('c', { channel: 'SMS' }), 'INVALID_ARGUMENT', 'patch.channel');
    expect((await store.getConversation('c'))?.channel).toBe('x'.repeat(32));
    for (const channel of ['whatsapp', 'sms', 'telegram', 'web', 'rcs', 'fb.messenger', 'line_2', 'a-b']) {
      expect((await store.updateConversation('c', { channel })).channel).toBe(channel);
    }
  });
});
