/**
 * `chatstore/builderbot`: the real `@builderbot/bot` (its test provider) with the store as its
 * database, on SQLite files: a conversation through keyword, answers, captures, fallBack,
 * flowDynamic and gotoFlow; a second bot on the same file continuing a capture; two customers
 * apart; a changed flow starting over; a failing store that never costs the customer's message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { ChatStoreError } from '../../src/errors.js';
import {
  type BuilderBotAdapterOptions,
  type BuilderBotContext,
  type BuilderBotDatabase,
  builderbotAdapter,
  builderbotDatabase,
} from '../../src/integrations/builderbot/index.js';
import { openStore } from '../../src/open.js';
import type { ChatStore } from '../../src/store.js';

type BuilderBot = typeof import('@builderbot/bot');
type Flow = ReturnType<BuilderBot['createFlow']>;

const dir = mkdtempSync(join(tmpdir(), 'chatstore-builderbot-'));
let files = 0;
/** Provider message ids, unique across bots (the logger stores a repeated one once). */
let deliveries = 0;
const stores: ChatStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** BuilderBot, loaded from the test's folder: it opens `core.class.log` and `queue.class.log` in the working directory. */
async function loadBuilderBot(): Promise<BuilderBot> {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return await import('@builderbot/bot');
  } finally {
    process.chdir(previous);
  }
}

async function sqliteStore(file = join(dir, `${files++}.db`)): Promise<ChatStore> {
  const store = await openStore(`sqlite://${file}`);
  stores.push(store);
  return store;
}

/** What the flow's callbacks use of BuilderBot's `BotMethods`. */
interface Methods {
  fallBack(message: string): void;
  flowDynamic(message: string): Promise<void>;
  gotoFlow(flow: ReturnType<BuilderBot['addKeyword']>): Promise<void>;
}

/** A coffee order: a greeting, a capture that falls back on anything but a number, a second capture, a goto. */
function orderFlow(bb: BuilderBot, question = '¿Cuántos cafés?'): Flow {
  const thanks = bb.addKeyword('__thanks__').addAnswer('Gracias, hasta pronto');
  const order = bb
    .addKeyword(['hola', 'menu'])
    .addAnswer('¡Hola! ☕')
    .addAnswer(question, { capture: true }, async (ctx: { body: string }, { fallBack, flowDynamic }: Methods) => {
      if (!/^\d+$/.test(ctx.body)) return fallBack('Escribe un número, por favor');
      await flowDynamic(`Anotado: ${ctx.body} cafés`);
    })
    .addAnswer('¿A nombre de quién?', { capture: true }, async (_ctx: unknown, { gotoFlow }: Methods) =>
      gotoFlow(thanks),
    );
  return bb.createFlow([order, thanks]);
}

/** The steps of the flow a customer waits at: the two captures, the fallBack's re-ask, the end. */
const AT_CUPS = (flow: Flow) => ({ ref: flow.flowSerialize[3]?.ref, answer: '__capture_only_intended__' });
const AT_NAME = (flow: Flow) => ({ ref: flow.flowSerialize[5]?.ref, answer: '__capture_only_intended__' });
const AT_CUPS_AGAIN = (flow: Flow) => ({ ref: flow.flowSerialize[3]?.ref, answer: 'Escribe un número, por favor' });
const AT_END = (flow: Flow) => ({ ref: flow.flowSerialize[7]?.ref, answer: 'Gracias, hasta pronto' });

interface Failure {
  operation: string;
  conversationId: string;
}

/** A bot on `store` with the adapter attached, and a customer's side of the chat. */
async function startBot(store: ChatStore, flow?: Flow) {
  const bb = await loadBuilderBot();
  const botFlow = flow ?? orderFlow(bb);
  const provider = bb.createProvider(bb.TestTool.TestProvider);
  const failures: Failure[] = [];
  const onError: BuilderBotAdapterOptions['onError'] = (_error, failed) => failures.push(failed);
  const chat = builderbotAdapter(store, { flow: botFlow, bot: '+15550783881', onError });
  const bot = await bb.createBot({ flow: botFlow, provider, database: chat.database });
  chat.attach(bot, provider);
  /** The customer writes; resolves once the conversation holds `stored` messages and the bot waits at `step`. */
  const say = async (from: string, body: string, stored: number, step?: { ref?: string; answer: string }) => {
    provider.emit('message', { from, body, message_id: `wamid.${++deliveries}` });
    await until(async () => (await store.recent(`+${from}`, 100)).length >= stored);
    if (step === undefined) return;
    await until(async () => {
      const prev = await chat.database.getPrevByNumber(from);
      return prev?.ref === step.ref && prev?.answer === step.answer;
    });
  };
  return { bb, flow: botFlow, provider, bot, chat, failures, say };
}

/** Waits for what the bot does through its own queue (bounded: the assertions after it say what was missing). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (await done()) return;
    await sleep(10);
  }
}

async function transcript(store: ChatStore, conversationId: string): Promise<string[]> {
  return (await store.recent(conversationId, 100)).map((m) => `${m.role}: ${m.content}`);
}

const FULL_ORDER = [
  'user: hola',
  'assistant: ¡Hola! ☕',
  'assistant: ¿Cuántos cafés?',
  'user: dos',
  'assistant: Escribe un número, por favor',
  'user: 2',
  'assistant: Anotado: 2 cafés',
  'assistant: ¿A nombre de quién?',
  'user: Ana',
  'assistant: Gracias, hasta pronto',
];

describe('builderbotAdapter with a BuilderBot bot', () => {
  test('a conversation runs through the flow; steps in the conversation, messages stored once', async () => {
    const store = await sqliteStore();
    const { flow, failures, say } = await startBot(store);
    await say('34600000000', 'hola', 3, AT_CUPS(flow));
    await say('34600000000', 'dos', 5, AT_CUPS_AGAIN(flow));
    await say('34600000000', '2', 8, AT_NAME(flow));
    await say('34600000000', 'Ana', 10, AT_END(flow));

    expect(await transcript(store, '+34600000000')).toEqual(FULL_ORDER);
    // The database added no message of its own: the step lives in the conversation's metadata.
    expect((await store.stats('+34600000000')).total).toBe(10);
    const conversation = await store.getConversation('+34600000000');
    expect(conversation?.metadata).toEqual({ builderbot: { step: expect.any(String) } });
    expect(conversation?.channel).toBe('whatsapp');
    expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual(['+34600000000']);
    expect(failures).toEqual([]);
  });

  test('a second bot on the same file (new flow refs, new store) continues the capture the first one asked', async () => {
    const file = join(dir, `${files++}.db`);
    const first = await startBot(await sqliteStore(file));
    await first.say('34600000001', 'hola', 3, AT_CUPS(first.flow));
    await stores.pop()?.close();

    const store = await sqliteStore(file);
    const second = await startBot(store);
    // BuilderBot names every step with a fresh random ref in each process: nothing but the position carries over.
    expect(second.flow.flowSerialize[3]?.ref).not.toBe(first.flow.flowSerialize[3]?.ref);
    await second.say('34600000001', 'dos', 5, AT_CUPS_AGAIN(second.flow));
    await second.say('34600000001', '2', 8, AT_NAME(second.flow));
    await second.say('34600000001', 'Ana', 10, AT_END(second.flow));
    expect(await transcript(store, '+34600000001')).toEqual(FULL_ORDER);
    expect([...first.failures, ...second.failures]).toEqual([]);
  });

  test('two customers writing at once each keep their own place in the flow', async () => {
    const store = await sqliteStore();
    const { flow, failures, say } = await startBot(store);
    await Promise.all([say('34600000002', 'hola', 3, AT_CUPS(flow)), say('34600000003', 'menu', 3, AT_CUPS(flow))]);
    await Promise.all([say('34600000002', '3', 6, AT_NAME(flow)), say('34600000003', 'tres', 5, AT_CUPS_AGAIN(flow))]);

    expect(await transcript(store, '+34600000002')).toEqual([
      'user: hola',
      'assistant: ¡Hola! ☕',
      'assistant: ¿Cuántos cafés?',
      'user: 3',
      'assistant: Anotado: 3 cafés',
      'assistant: ¿A nombre de quién?',
    ]);
    expect(await transcript(store, '+34600000003')).toEqual([
      'user: menu',
      'assistant: ¡Hola! ☕',
      'assistant: ¿Cuántos cafés?',
      'user: tres',
      'assistant: Escribe un número, por favor',
    ]);
    expect(failures).toEqual([]);
  });

  test('a store that refuses writes costs no message: the flow goes on from memory, and the step is written once it can be', async () => {
    const store = await sqliteStore();
    const { flow, failures, say } = await startBot(store);
    const down = () => Promise.reject(new ChatStoreError('UNAVAILABLE', 'the database is down'));
    store.updateConversation = down;
    store.createConversation = down;

    await say('34600000004', 'hola', 3, AT_CUPS(flow));
    // The capture answers the customer's message though the step before it was never stored.
    await say('34600000004', '2', 6, AT_NAME(flow));
    expect((await store.getConversation('+34600000004'))?.metadata).toEqual({});
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures.map((f) => `${f.operation} ${f.conversationId}`))).toEqual(
      new Set(['save-step +34600000004']),
    );

    // Back up: the next read writes the step it kept.
    delete (store as Partial<ChatStore>).updateConversation;
    delete (store as Partial<ChatStore>).createConversation;
    failures.length = 0;
    await say('34600000004', 'Ana', 8, AT_END(flow));
    expect(await transcript(store, '+34600000004')).toEqual([
      'user: hola',
      'assistant: ¡Hola! ☕',
      'assistant: ¿Cuántos cafés?',
      'user: 2',
      'assistant: Anotado: 2 cafés',
      'assistant: ¿A nombre de quién?',
      'user: Ana',
      'assistant: Gracias, hasta pronto',
    ]);
    const reopened = builderbotDatabase(store, { flow });
    expect(await reopened.getPrevByNumber('34600000004')).toMatchObject(AT_END(flow));
    expect(failures).toEqual([]);
  });

  test('a store that cannot be read: the message is answered as one that continues nothing, and the failure reported', async () => {
    const store = await sqliteStore();
    const { flow, failures, say } = await startBot(store);
    store.getConversation = () => Promise.reject(new ChatStoreError('UNAVAILABLE', 'the database is down'));
    await say('34600000005', 'hola', 3);
    expect(await transcript(store, '+34600000005')).toEqual([
      'user: hola',
      'assistant: ¡Hola! ☕',
      'assistant: ¿Cuántos cafés?',
    ]);
    expect(failures).toContainEqual({ operation: 'read-step', conversationId: '+34600000005' });
    delete (store as Partial<ChatStore>).getConversation;
    const database = builderbotDatabase(store, { flow });
    await until(async () => (await database.getPrevByNumber('34600000005'))?.ref === AT_CUPS(flow).ref);
    expect(await database.getPrevByNumber('34600000005')).toMatchObject(AT_CUPS(flow));
  });
});

describe('builderbotDatabase', () => {
  test('a changed flow starts over; the same flow built again continues', async () => {
    const store = await sqliteStore();
    const { flow, say } = await startBot(store);
    await say('34600000006', 'hola', 3, AT_CUPS(flow));
    const bb = await loadBuilderBot();
    const rebuilt = orderFlow(bb);
    expect(await builderbotDatabase(store, { flow: rebuilt }).getPrevByNumber('34600000006')).toEqual({
      ...AT_CUPS(rebuilt),
      keyword: rebuilt.flowSerialize[2]?.ref,
      refSerialize: rebuilt.flowSerialize[3]?.refSerialize,
      options: rebuilt.flowSerialize[3]?.options,
      from: '34600000006',
    });
    const changed = builderbotDatabase(store, { flow: orderFlow(bb, '¿Cuántos tés?') });
    expect(await changed.getPrevByNumber('34600000006')).toBeUndefined();
  });

  test('each save replaces the whole step; concurrent saves of one new customer from two instances all land', async () => {
    const store = await sqliteStore();
    const bb = await loadBuilderBot();
    const flow = orderFlow(bb);
    const failures: Failure[] = [];
    const instances: BuilderBotDatabase[] = [0, 1].map(() =>
      builderbotDatabase(store, { flow, onError: (_error, failed) => failures.push(failed) }),
    );
    const [a, b] = instances as [BuilderBotDatabase, BuilderBotDatabase];
    const asked = flow.flowSerialize[3]?.refSerialize;
    const answer = (body: string, options: BuilderBotContext['options']): BuilderBotContext => ({
      from: 'whatsapp:+34 600 000 007',
      ref: `${body}-ref`,
      keyword: asked,
      answer: body,
      refSerialize: `${body}-serial`,
      options,
    });

    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).save(answer(`n${i}`, {}))));
    expect(failures).toEqual([]);
    expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual(['+34600000007']);
    // Created by the database, on the default channel; another channel when given.
    expect((await store.getConversation('+34600000007'))?.channel).toBe('whatsapp');
    await builderbotDatabase(store, { flow, channel: 'telegram' }).save({ ...answer('x', {}), from: '34600000008' });
    expect((await store.getConversation('+34600000008'))?.channel).toBe('telegram');
    const last = await a.getPrevByNumber('34600000007');
    expect(last?.answer).toMatch(/^n\d+$/);
    expect(last).toEqual(answer(String(last?.answer), {}));

    await a.save(answer('first', { capture: true, media: 'https://example.com/menu.jpg', buttons: [{ body: 'Sí' }] }));
    await b.save(answer('second', { delay: 0 }));
    expect(await a.getPrevByNumber('+34600000007')).toEqual(answer('second', { delay: 0 }));
    // A message without a keyword (a flowDynamic answer) is never a step: the step stays.
    await a.save({ from: '34600000007', ref: 'x', keyword: null, answer: 'Anotado', options: {} });
    expect(await b.getPrevByNumber('34600000007')).toEqual(answer('second', { delay: 0 }));
  });

  test('bad input is a ChatStoreError', async () => {
    const store = await sqliteStore();
    const bb = await loadBuilderBot();
    const flow = orderFlow(bb);
    const invalid = expect.objectContaining({ name: 'ChatStoreError', code: 'INVALID_ARGUMENT' });
    expect(() => builderbotDatabase(store, { flow: {} as never })).toThrow(invalid);
    expect(() => builderbotDatabase(store, undefined as never)).toThrow(invalid);
    const database = builderbotDatabase(store, { flow });
    await expect(database.save({} as never)).rejects.toEqual(invalid);
    await expect(database.getPrevByNumber('')).rejects.toEqual(invalid);

    const chat = builderbotAdapter(store, { flow });
    const provider = bb.createProvider(bb.TestTool.TestProvider);
    const other = await bb.createBot({ flow: orderFlow(bb), provider, database: chat.database });
    expect(() => chat.attach(other, provider)).toThrow(invalid);
  });
});
