/**
 * A LangChain.js chain that remembers: `RunnableWithMessageHistory` keeps every turn in chatstore
 * (`ChatStoreChatMessageHistory`), so the next turn, and the next run of this process, hands the
 * model the conversation so far.
 */
import type { ChatPromptValueInterface } from '@langchain/core/prompt_values';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableLambda, RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { ChatStoreChatMessageHistory } from 'chatstore/langchain';
import { openStore } from 'chatstore/open';

// CHATSTORE_URL, else the SQLite file ./data/chatstore.db.
const store = await openStore();

// Runs offline: LangChain's fake chat model gives its canned answers in turn. A real model goes here
// instead (README.md).
const model = new FakeListChatModel({
  responses: ['Yes, size 42 is in stock.', 'Brown too, in every size from 38 to 46.'],
});

// Prints what the model is given on its way there: the history read from the store is in it.
const showModelInput = RunnableLambda.from((input: ChatPromptValueInterface) => {
  console.log(`  the model is given: ${input.messages.map((message) => message.type).join(', ')}`);
  return input;
});

const prompt = ChatPromptTemplate.fromMessages([
  ['system', 'You are the shop assistant. Answer briefly.'],
  new MessagesPlaceholder('history'),
  ['human', '{input}'],
]);
const chat = new RunnableWithMessageHistory({
  runnable: prompt.pipe(showModelInput).pipe(model),
  // One chatstore conversation per session; the model gets its newest messages that fit 4,000 tokens.
  getMessageHistory: (sessionId) => new ChatStoreChatMessageHistory(store, sessionId, { maxTokens: 4000 }),
  inputMessagesKey: 'input',
  historyMessagesKey: 'history',
});

// The customer's number is the conversation, as the webhooks and the bot-flow logger store it.
const sessionId = process.env.SESSION_ID ?? '+15550001111';
for (const input of ['Do you have these boots in size 42?', 'And in brown?']) {
  console.log(`> ${input}`);
  const answer = await chat.invoke({ input }, { configurable: { sessionId } });
  console.log(`< ${answer.content}`);
}
await store.close();
