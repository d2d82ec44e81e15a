/**
 * `chatstore/langchain`: a LangChain.js chat history over one chatstore conversation, for
 * `RunnableWithMessageHistory` and anything else that takes a `BaseListChatMessageHistory`.
 * `@langchain/core` (1.x) is an optional peer dependency: install it to use this subpath.
 *
 * Messages round-trip: `human` ↔ `user`, `ai` ↔ `assistant`, `system`, `tool` (and a generic
 * `ChatMessage` whose role is one of those); a content of blocks is kept as the message's `parts`
 * (its text blocks joined are the `content`, so search and token budgets see the text); the
 * message's `id` is the external id (so adding the same message twice stores it once); `tool_calls`,
 * `invalid_tool_calls`, `tool_call_id`, `name`, `status`, `artifact`, `usage_metadata`,
 * `additional_kwargs` and `response_metadata` are kept in `metadata.langchain` and given back.
 * @example
 * const history = new ChatStoreChatMessageHistory(store, sessionId, { maxTokens: 4000 });
 * const chain = new RunnableWithMessageHistory({ runnable, getMessageHistory: () => history, inputMessagesKey: 'input', historyMessagesKey: 'history' });
 */
import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import {
  AIMessage,
  type BaseMessage,
  type ChatMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';
import { ChatStoreError } from '../../errors.js';
import {
  type JsonObject,
  type JsonValue,
  type Message,
  type NewConversation,
  type NewMessage,
  ROLES,
  type Role,
} from '../../model.js';
import type { ChatStore } from '../../store.js';
import { textOfParts } from '../../text.js';
import { approximateTokens, type TokenCounter } from '../../tokens.js';

export interface ChatStoreHistoryOptions {
  /** How many of the newest messages `getMessages` gives at most (default 50). */
  limit?: number;
  /** A token budget: of those, the newest that fit (a tool result whose call fell outside is left out too). */
  maxTokens?: number;
  /** How `maxTokens` counts a message (default `approximateTokens`: four characters a token plus four). */
  countTokens?: TokenCounter;
  /** What the conversation is created with by its first message (type, title, participants). */
  conversation?: NewConversation;
}

const DEFAULT_LIMIT = 50;
/** The LangChain fields kept in `metadata.langchain`, as they were. */
const KEPT_FIELDS = [
  'tool_calls',
  'invalid_tool_calls',
  'tool_call_id',
  'name',
  'status',
  'artifact',
  'usage_metadata',
  'additional_kwargs',
  'response_metadata',
] as const;

export class ChatStoreChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ['chatstore', 'langchain', 'history'];
  readonly #store: ChatStore;
  readonly #options: ChatStoreHistoryOptions;

  constructor(
    store: ChatStore,
    readonly conversationId: string,
    options: ChatStoreHistoryOptions = {},
  ) {
    super();
    this.#store = store;
    this.#options = options;
  }

  /** The newest messages (`limit`, then `maxTokens`), oldest first. */
  async getMessages(): Promise<BaseMessage[]> {
    const messages = await this.#store.recent(this.conversationId, this.#options.limit ?? DEFAULT_LIMIT);
    return withinBudget(messages, this.#options).map(langchainMessage);
  }

  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  /** One atomic append: all of them are stored, or none. */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const conversation = this.#options.conversation;
    await this.#store.append(
      this.conversationId,
      messages.map(storedMessage),
      conversation === undefined ? {} : { conversation },
    );
  }

  /** Removes the conversation and its messages from the engine. */
  override async clear(): Promise<void> {
    await this.#store.deleteConversation(this.conversationId, { hard: true });
  }
}

const ROLE_OF_TYPE: Readonly<Record<string, Role>> = { human: 'user', ai: 'assistant', system: 'system', tool: 'tool' };

/** A LangChain message as a chatstore message to append. */
export function storedMessage(message: BaseMessage): NewMessage {
  const type = message.getType();
  const role = type === 'generic' ? (message as ChatMessage).role : ROLE_OF_TYPE[type];
  if (role === undefined || !(ROLES as readonly string[]).includes(role)) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `a ${type} message${type === 'generic' ? ` of role ${role}` : ''} has no chatstore role (${ROLES.join(', ')})`,
      {
        path: 'role',
      },
    );
  }
  const content = message.content;
  const langchain: JsonObject = {};
  const fields = message as unknown as Record<string, unknown>;
  for (const name of KEPT_FIELDS) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    langchain[name] = value as JsonValue;
  }
  return {
    role: role as Role,
    content: typeof content === 'string' ? content : textOfParts(content),
    ...(typeof content === 'string' ? {} : { parts: content as JsonValue[] }),
    ...(typeof message.id === 'string' && message.id !== '' ? { externalId: message.id } : {}),
    ...(Object.keys(langchain).length === 0 ? {} : { metadata: { langchain } }),
  };
}

/** A stored message as the LangChain message it was. */
export function langchainMessage(message: Message): BaseMessage {
  const kept = (message.metadata?.langchain ?? {}) as Record<string, unknown>;
  const fields = {
    content: (message.parts ?? message.content) as string,
    id: message.externalId ?? message.id,
    ...(kept.name === undefined ? {} : { name: kept.name as string }),
    ...(kept.additional_kwargs === undefined
      ? {}
      : { additional_kwargs: kept.additional_kwargs as Record<string, unknown> }),
    ...(kept.response_metadata === undefined
      ? {}
      : { response_metadata: kept.response_metadata as Record<string, unknown> }),
  };
  switch (message.role) {
    case 'user':
      return new HumanMessage(fields);
    case 'system':
      return new SystemMessage(fields);
    case 'tool':
      return new ToolMessage({
        ...fields,
        tool_call_id: (kept.tool_call_id as string | undefined) ?? '',
        ...(kept.status === undefined ? {} : { status: kept.status as 'success' | 'error' }),
        ...(kept.artifact === undefined ? {} : { artifact: kept.artifact }),
      });
    default:
      return new AIMessage({
        ...fields,
        ...(kept.tool_calls === undefined ? {} : { tool_calls: kept.tool_calls as never }),
        ...(kept.invalid_tool_calls === undefined ? {} : { invalid_tool_calls: kept.invalid_tool_calls as never }),
        ...(kept.usage_metadata === undefined ? {} : { usage_metadata: kept.usage_metadata as never }),
      });
  }
}

/**
 * The newest messages whose tokens fit `maxTokens`, oldest first; a tool result at the start
 * (whose call did not fit) is left out, since a model refuses a result without its call.
 */
function withinBudget(messages: Message[], options: ChatStoreHistoryOptions): Message[] {
  if (options.maxTokens === undefined) return messages;
  const count = options.countTokens ?? approximateTokens;
  let used = 0;
  let start = messages.length;
  while (start > 0) {
    const message = messages[start - 1] as Message;
    const tokens = count({ role: message.role, content: message.content });
    if (used + tokens > options.maxTokens) break;
    used += tokens;
    start -= 1;
  }
  while (start < messages.length && messages[start]?.role === 'tool') start += 1;
  return messages.slice(start);
}
