/** Bot command detection on incoming messages (docs/api.md, bot commands). */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { Command, NewMessage } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, freshStore, T0 } from './harness.js';

async function commandOf(store: ChatStoreApi, message: NewMessage): Promise<Command | undefined> {
  const [result] = await store.append('c1', message);
  const stored = await store.get(result?.message.id as string);
  expect(stored).toStrictEqual(result?.message);
  return stored?.command;
}

describe.each(backends)('commands on $name', (entry) => {
  test('incoming commands are detected with their admin flag', async () => {
    const store = await freshStore(entry, { ...atT0, commands: { admin: ['ban'] } });
    const [help] = await store.append('c1', { role: 'user', content: '/help', externalId: 'e1' });
    expect(help?.message).toStrictEqual({
      id: expect.any(String),
      conversationId: 'c1',
      seq: 1,
      externalId: 'e1',
      role: 'user',
      direction: 'incoming',
      content: '/help',
      command: { name: 'help', admin: false },
      createdAt: T0,
    });
    expect(await commandOf(store, { role: 'user', content: '!ban x' })).toStrictEqual({ name: 'ban', admin: true });
    expect(await commandOf(store, { role: 'user', content: '!BAN @someone for spam' })).toStrictEqual({
      name: 'ban',
      admin: true,
    });
    expect(await commandOf(store, { direction: 'incoming', content: '/start@my_bot' })).toStrictEqual({
      name: 'start',
      admin: false,
    });
    expect(await commandOf(store, { role: 'user', content: '/start@my_bot deep-link' })).toStrictEqual({
      name: 'start',
      admin: false,
    });
    expect(await commandOf(store, { role: 'user', content: '/Menu\nsecond line' })).toStrictEqual({
      name: 'menu',
      admin: false,
    });
  });

  test('not a command: outgoing, a space after the prefix, a prefix later in the text, command: null', async () => {
    const store = await freshStore(entry, { ...atT0, commands: { admin: ['ban'] } });
    for (const message of [
      { role: 'assistant', content: '/help' },
      { direction: 'outgoing', role: 'user', content: '!ban x' },
      { role: 'user', content: '/ help' },
      { role: 'user', content: 'hello /x' },
      { role: 'user', content: ' /help' },
      { role: 'user', content: '/' },
      { role: 'user', content: '/help!' },
      { role: 'user', content: '' },
      { role: 'user', content: '/help', command: null },
    ] satisfies NewMessage[]) {
      const [result] = await store.append('c1', message);
      expect(result?.message, message.content).not.toHaveProperty('command');
      expect(await store.get(result?.message.id as string)).not.toHaveProperty('command');
    }
    expect((await store.stats('c1')).commands).toBe(0);
  });

  test('a command given by the caller is stored as given; prefixes are configurable', async () => {
    const store = await freshStore(entry, { ...atT0, commands: { prefixes: ['#'] } });
    expect(
      await commandOf(store, { role: 'assistant', content: 'menu sent', command: { name: 'menu', admin: true } }),
    ).toStrictEqual({ name: 'menu', admin: true });
    expect(await commandOf(store, { role: 'user', content: '#menu' })).toStrictEqual({ name: 'menu', admin: false });
    expect(await commandOf(store, { role: 'user', content: '/help' })).toBeUndefined();
    expect(await commandOf(store, { role: 'user', content: '!ban x' })).toBeUndefined();
    const defaults = await freshStore(entry, atT0);
    expect(await commandOf(defaults, { role: 'user', content: '!ban x' })).toStrictEqual({ name: 'ban', admin: false });
  });
});
