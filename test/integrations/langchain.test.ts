/**
 * `chatstore/langchain`: LangChain's own message classes round-trip through a real SQLite file, a
 * batch is one atomic append, the window is the newest by count or token budget, and
 * `RunnableWithMessageHistory` with LangChain's fake chat model keeps a conversation in the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeChatModel } from '@langchain/core/utils/testing';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { ChatStoreChatMessageHistory } from '../../src/integrations/langchain/index.js';
import { openStore } from '../../src/open.js';
import type { ChatStore } from '../../src/store.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstore-langchain-'));
let files = 0;
const stores: ChatStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sqliteStore(): Promise<ChatStore> {
  const store = await openStore(`sqlite://${join(dir, `${files++}.db`)}`);
  stores.push(store);
  return store;
}

const CONVERSATION = [
  new SystemMessage('You are a shop assistant.'),
  new HumanMessage({ content: '¿Tienen la talla 42? 👟', id: 'h-1' }),
  new AIMessage({
    content: '',
    id: 'a-1',
    tool_calls: [{ id: 'call-1', name: 'stock', args: { size: 42 }, type: 'tool_call' }],
    usage_metadata: { input_tokens: 12, output_tokens: 7, total_tokens: 19 },
  }),
  new ToolMessage({ content: '{"size":42,"count":3}', tool_call_id: 'call-1', name: 'stock', id: 't-1' }),
  new AIMessage({
    content: [
      { type: 'text', text: 'Sí, ' },
      { type: 'text', text: 'quedan 3 🟢' },
    ],
    id: 'a-2',
    response_metadata: { model: 'fake', finish_reason: 'stop' },
  }),
];

describe('ChatStoreChatMessageHistory', () => {
  test('human, AI with tool calls, tool, system and content blocks come back as they went in', async () => {
    const store = await sqliteStore();
    const history = new ChatStoreChatMessageHistory(store, 'session-1');
    await history.addMessages(CONVERSATION);
    const back = await new ChatStoreChatMessageHistory(store, 'session-1').getMessages();
    expect(back.map((m) => [m.getType(), m.content, m.id])).toEqual(
      CONVERSATION.map((m) => [m.getType(), m.content, m.id ?? expect.any(String)]),
    );
    expect((back[2] as AIMessage).tool_calls).toEqual((CONVERSATION[2] as AIMessage).tool_calls);
    expect((back[2] as AIMessage).usage_metadata).toEqual({ input_tokens: 12, output_tokens: 7, total_tokens: 19 });
    expect(back[3]).toMatchObject({ tool_call_id: 'call-1', name: 'stock' });
    expect(back[4]?.response_metadata).toMatchObject({ model: 'fake', finish_reason: 'stop' });
    // In the store: roles, the blocks' text as the content (search and budgets see it), the blocks as parts.
    const stored = await store.recent('session-1', 10);
    expect(stored.map((m) => [m.role, m.content, m.externalId])).toEqual([
      ['system', 'You are a shop assistant.', undefined],
      ['user', '¿Tienen la talla 42? 👟', 'h-1'],
      ['assistant', '', 'a-1'],
      ['tool', '{"size":42,"count":3}', 't-1'],
      ['assistant', 'Sí, quedan 3 🟢', 'a-2'],
    ]);
    expect(stored[4]?.parts).toEqual(CONVERSATION[4]?.content);
    expect((await store.search('quedan')).hits.map((hit) => hit.message.externalId)).toEqual(['a-2']);
  });

  test('a batch is one append: a message without a chatstore role stores none of it; an id twice is stored once', async () => {
    const store = await sqliteStore();
    const history = new ChatStoreChatMessageHistory(store, 'session-2');
    await expect(
      history.addMessages([new HumanMessage('first'), new ChatMessage({ content: 'x', role: 'developer' })]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', path: 'role' });
    await expect(
      history.addMessages([new HumanMessage('first'), new HumanMessage('x'.repeat(store.limits.maxContentBytes + 1))]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await history.getMessages()).toEqual([]);
    await history.addMessage(new HumanMessage({ content: 'hola', id: 'h-9' }));
    await history.addMessage(new HumanMessage({ content: 'hola', id: 'h-9' }));
    await history.addMessage(new ChatMessage({ content: 'as a generic message', role: 'assistant' }));
    expect((await history.getMessages()).map((m) => [m.getType(), m.content])).toEqual([
      ['human', 'hola'],
      ['ai', 'as a generic message'],
    ]);
  });

  test('the window: the newest `limit`, then what fits `maxTokens`, never opening on a tool result', async () => {
    const store = await sqliteStore();
    await new ChatStoreChatMessageHistory(store, 'session-3').addMessages(CONVERSATION);
    const last = (options: ConstructorParameters<typeof ChatStoreChatMessageHistory>[2]) =>
      new ChatStoreChatMessageHistory(store, 'session-3', options).getMessages();
    expect((await last({ limit: 2 })).map((m) => m.id)).toEqual(['t-1', 'a-2']);
    // Each message counts 10 here: 25 tokens fit the newest two, the first of which is a tool result.
    expect((await last({ maxTokens: 25, countTokens: () => 10 })).map((m) => m.id)).toEqual(['a-2']);
    expect((await last({ maxTokens: 30, countTokens: () => 10 })).map((m) => m.id)).toEqual(['a-1', 't-1', 'a-2']);
  });

  test('clear removes the conversation and its messages', async () => {
    const store = await sqliteStore();
    const history = new ChatStoreChatMessageHistory(store, 'session-4', { conversation: { title: 'Tienda' } });
    await history.addMessages(CONVERSATION.slice(0, 2));
    expect(await store.getConversation('session-4')).toMatchObject({ title: 'Tienda', messageCount: 2 });
    await history.clear();
    expect(await history.getMessages()).toEqual([]);
    expect(await store.getConversation('session-4')).toBeUndefined();
  });

  test('RunnableWithMessageHistory keeps each turn in the store and hands the history to the model', async () => {
    const store = await sqliteStore();
    const prompt = ChatPromptTemplate.fromMessages([
      ['system', 'Be brief.'],
      new MessagesPlaceholder('history'),
      ['human', '{input}'],
    ]);
    // LangChain's fake chat model answers with every message it was given, one per line.
    const chain = new RunnableWithMessageHistory({
      runnable: prompt.pipe(new FakeChatModel({})),
      getMessageHistory: (sessionId: string) => new ChatStoreChatMessageHistory(store, sessionId),
      inputMessagesKey: 'input',
      historyMessagesKey: 'history',
    });
    const config = { configurable: { sessionId: '+15550001111' } };
    const first = await chain.invoke({ input: 'Hola' }, config);
    expect(first.content).toBe('Be brief.\nHola');
    const second = await chain.invoke({ input: '¿Y mañana?' }, config);
    expect(second.content).toBe('Be brief.\nHola\nBe brief.\nHola\n¿Y mañana?');
    expect((await store.recent('+15550001111', 10)).map((m) => [m.role, m.content])).toEqual([
      ['user', 'Hola'],
      ['assistant', 'Be brief.\nHola'],
      ['user', '¿Y mañana?'],
      ['assistant', 'Be brief.\nHola\nBe brief.\nHola\n¿Y mañana?'],
    ]);
  });
});
