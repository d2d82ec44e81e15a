/**
 * LangChain.js's chat histories, as its own code writes them (read from `@langchain/community`):
 * - `langchain-postgres`: `PostgresChatMessageHistory`, a table
 *   `langchain_chat_histories(id SERIAL, session_id, message JSONB)`, a row per message in `id` order;
 * - `langchain-redis`: `RedisChatMessageHistory` (`@langchain/redis` and the community ioredis one),
 *   a list per session under the session id itself, newest first (`LPUSH`).
 * Each message is a `StoredMessage`, `{ type, data: { content, … } }`: `type` gives the role
 * (`human`, `ai`, `system`, `tool`, `function`, `generic` with `data.role`), a content of blocks
 * gives its text blocks joined (the blocks are kept as the message's `parts`), and the rest of `data` is kept. LangChain keeps no time: the
 * messages of a session take the run's start, in their stored order.
 */

import { textOfParts } from '../../text.js';
import type { SourceConversation, SourceDeleter, SourceItem, SourceRecord } from '../source.js';
import { openRedis } from './redis-client.js';
import type { TableLayout } from './table-rows.js';
import { parsedValue } from './values.js';

export const langchainPostgresLayout: TableLayout = {
  defaultTable: 'langchain_chat_histories',
  query: (tables) => `SELECT * FROM ${tables.messages} ORDER BY session_id, id`,
  conversation: (row) => String(row.session_id ?? ''),
  record: (row, table) => ({
    key: `${table}:${String(row.id)}`,
    value: storedMessage(row.message),
    rowId: String(row.id),
  }),
};

const ROLES: Readonly<Record<string, string>> = {
  human: 'user',
  ai: 'assistant',
  system: 'system',
  tool: 'tool',
  function: 'tool',
};

/**
 * A `StoredMessage` as the fields a legacy message has: `role`, `content` and the rest of `data`
 * (`additional_kwargs`, `tool_calls`, `id`, …) as they were. Anything else is left for
 * `legacy-message.ts` to refuse.
 */
export function storedMessage(value: unknown): unknown {
  const stored = value as { type?: unknown; data?: Record<string, unknown> } | null;
  if (typeof stored !== 'object' || stored === null || typeof stored.data !== 'object' || stored.data === null) {
    return value;
  }
  const { content, role: genericRole, ...rest } = stored.data;
  const role = stored.type === 'generic' ? genericRole : ROLES[String(stored.type)];
  const text = Array.isArray(content) ? textOfParts(content) : content;
  return {
    ...rest,
    langchainType: stored.type,
    ...(role === undefined ? {} : { role }),
    ...(text === undefined ? {} : { content: text }),
    ...(Array.isArray(content) ? { parts: content } : {}),
  };
}

/** `redis://host:6379/0?match=chat:*`: the lists whose keys match (every list by default), one session each. */
export async function* langchainRedisConversations(source: string): AsyncIterable<SourceItem> {
  const { redis, params } = await openRedis(source, ['match']);
  const match = params.match ?? '*';
  try {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500, 'TYPE', 'list');
      for (const key of found) keys.add(key);
      cursor = next;
    } while (cursor !== '0');
    for (const key of [...keys].sort()) {
      // LPUSH keeps the newest first: the session's order is the list reversed.
      const values = (await redis.lrange(key, 0, -1)).reverse();
      const records: SourceRecord[] = values.map((text, index) => ({
        key: `${key}#${index}`,
        value: storedMessage(parsedValue(text)),
      }));
      yield { kind: 'conversation', conversation: { key, records } };
    }
  } finally {
    await redis.quit();
  }
}

/**
 * Deletes a matched session's messages: the list's oldest entries, as many as this pass read
 * (`LTRIM`), so messages pushed since stay (the list goes when it is empty).
 */
export function langchainRedisDeleter(source: string): SourceDeleter {
  let connection: ReturnType<typeof openRedis> | undefined;
  return {
    async remove(conversation: SourceConversation): Promise<void> {
      const read = conversation.records.length;
      if (read === 0) return;
      connection ??= openRedis(source, ['match']);
      const { redis } = await connection;
      await redis
        .multi()
        .ltrim(conversation.key, 0, -(read + 1))
        .exec();
    },
    async finish(): Promise<boolean> {
      if (connection !== undefined) await (await connection).redis.quit();
      return true;
    },
  };
}
