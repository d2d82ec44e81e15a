/**
 * `chatstore/logger`: the bot-flow logger wired to a real BuilderBot bot (`@builderbot/bot` with its
 * test provider) over a SQLite file: incoming messages and every answer, in order, answers linked to
 * what they answer, retries stored once, commands detected; and logging that never breaks the flow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { messageLogger } from '../../src/integrations/logger/index.js';
import type { Message } from '../../src/model.js';
import { openStore } from '../../src/open.js';
import type { ChatStore } from '../../src/store.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstore-logger-'));
let files = 0;
const stores: ChatStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * BuilderBot, loaded with the test's folder as the working directory: it opens its own log files
 * (`core.class.log`, `queue.class.log`) there when it loads, and they must not land in the project.
 */
async function loadBuilderBot(): Promise<typeof import('@builderbot/bot')> {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return await import('@builderbot/bot');
  } finally {
    process.chdir(previous);
  }
}

async function sqliteStore(): Promise<ChatStore> {
  const store = await openStore(`sqlite://${join(dir, `${files++}.db`)}`);
  stores.push(store);
  return store;
}

/** Waits until the conversation holds `count` messages (the bot answers through its own queue). */
async function messagesOf(store: ChatStore, conversationId: string, count: number): Promise<Message[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const messages = await store.recent(conversationId, 50);
    if (messages.length >= count) return messages;
    await sleep(10);
  }
  return store.recent(conversationId, 50);
}

describe('messageLogger', () => {
  test('attached to a BuilderBot bot: every incoming message and answer, in order, replies linked, retries once', async () => {
    const { addKeyword, createBot, createFlow, createProvider, MemoryDB, TestTool } = await loadBuilderBot();
    const store = await sqliteStore();
    const provider = createProvider(TestTool.TestProvider);
    const flow = addKeyword(['hola', '/start'])
      .addAnswer('¡Hola! ¿En qué te ayudo? 👋')
      .addAnswer(
        'Escribe tu pedido',
        { capture: true },
        async (ctx: { body: string }, { flowDynamic }: { flowDynamic: (text: string) => Promise<void> }) => {
          await flowDynamic(`Pedido recibido: ${ctx.body}`);
        },
      );
    const bot = await createBot({ flow: createFlow([flow]), provider, database: new MemoryDB() });
    const errors: unknown[] = [];
    messageLogger(store, { bot: '15550783881', onError: (error) => errors.push(error) }).attachTo(bot, provider);

    const customer = '34600000000';
    provider.emit('message', { from: customer, body: 'hola', name: 'Ana', message_id: 'wamid.1' });
    await messagesOf(store, `+${customer}`, 3);
    provider.emit('message', { from: customer, body: '2 cafés ☕', name: 'Ana', message_id: 'wamid.2' });
    const messages = await messagesOf(store, `+${customer}`, 5);
    // The provider delivers wamid.2 again: stored once (the bot, which keeps no ids, answers it again).
    provider.emit('message', { from: customer, body: '2 cafés ☕', name: 'Ana', message_id: 'wamid.2' });
    await sleep(100);

    expect(messages.map((m) => [m.role, m.content, m.externalId])).toEqual([
      ['user', 'hola', 'wamid.1'],
      ['assistant', '¡Hola! ¿En qué te ayudo? 👋', undefined],
      ['assistant', 'Escribe tu pedido', undefined],
      ['user', '2 cafés ☕', 'wamid.2'],
      ['assistant', 'Pedido recibido: 2 cafés ☕', undefined],
    ]);
    const [hola, greeting, prompt, order, received] = messages as Message[];
    expect([greeting?.replyTo, prompt?.replyTo, received?.replyTo]).toEqual([hola?.id, hola?.id, order?.id]);
    expect(hola).toMatchObject({ senderId: `+${customer}`, recipientId: '+15550783881', direction: 'incoming' });
    expect(greeting).toMatchObject({
      senderId: '+15550783881',
      recipientId: `+${customer}`,
      metadata: { builderbot: { ref: expect.any(String) } },
    });
    expect((await store.recent(`+${customer}`, 50)).filter((m) => m.externalId === 'wamid.2')).toHaveLength(1);
    expect(await store.getConversation(`+${customer}`)).toMatchObject({
      channel: 'whatsapp',
      participants: expect.arrayContaining([expect.objectContaining({ id: `+${customer}`, name: 'Ana' })]),
    });
    expect(errors).toEqual([]);

    provider.emit('message', { from: '34600000001', body: '/start', message_id: 'wamid.3' });
    const [command] = await messagesOf(store, '+34600000001', 1);
    expect(command?.command).toEqual({ name: 'start', admin: false });
  });

  test('sendAndLog answers through the flow, then logs the answer to the message it answers', async () => {
    const store = await sqliteStore();
    const log = messageLogger(store, { bot: '+15550783881' });
    const ctx = { from: '34600000002', body: '¿horario?', message_id: 'wamid.4' };
    const incoming = await log.logIncoming(ctx);
    const sent: string[] = [];
    const answer = await log.sendAndLog(ctx, { flowDynamic: async (text) => sent.push(text) }, 'De 9 a 18 h');
    expect(sent).toEqual(['De 9 a 18 h']);
    expect(answer).toMatchObject({ role: 'assistant', content: 'De 9 a 18 h', replyTo: incoming?.id });
  });

  test('a conversation the bot starts is created too, on the channel given', async () => {
    const store = await sqliteStore();
    const log = messageLogger(store, { bot: '+15550783881', channel: 'sms' });
    await log.logOutgoing('+15550783881', '34600000009', 'Your order shipped');
    expect(await store.getConversation('+34600000009')).toMatchObject({ type: 'private', channel: 'sms', lastSeq: 1 });
  });

  test('logging never breaks the flow: a failing store and a failing error hook both resolve to undefined', async () => {
    const store = await sqliteStore();
    await store.close();
    const failures: { operation: string; conversationId: string }[] = [];
    const log = messageLogger(store, { onError: (_error, failed) => failures.push(failed) });
    await expect(log.logIncoming({ from: '34600000003', body: 'hola' })).resolves.toBeUndefined();
    await expect(log.logOutgoing('bot', '34600000003', 'hola')).resolves.toBeUndefined();
    expect(failures).toEqual([
      { operation: 'incoming', conversationId: '+34600000003' },
      { operation: 'outgoing', conversationId: '+34600000003' },
    ]);
    const throwing = messageLogger(store, {
      onError: () => {
        throw new Error('the hook fails too');
      },
    });
    await expect(throwing.logIncoming({ from: '34600000003', body: 'hola' })).resolves.toBeUndefined();
    // Bad input is a failure like any other, never an exception in the flow.
    await expect(log.logIncoming(undefined as never)).resolves.toBeUndefined();
  });
});
