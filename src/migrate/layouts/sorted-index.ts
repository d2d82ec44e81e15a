/**
 * Layout `sorted-index`: one key per message, `chat:{chat_id}` holding the serialized message, and
 * per user a sorted set `user:chat:{userId}` of `{ score: unix time, member: "chat:{chat_id}" }`.
 * From Redis (`redis://…[?keyPrefix=app:]`: the sets are read one at a time, their messages by
 * MGET; a key prefix applies to both kinds of key, not to the set's members) or from KV, an
 * export or the live namespace (the sets as arrays of `{ score, member }`; KV lists every `chat:`
 * key before the `user:` ones, so the messages are held in memory until the sets that order them
 * are read).
 */
import type { SourceConversation, SourceDeleter, SourceItem, SourceRecord } from '../source.js';
import type { KvItem } from './kv-export.js';
import { openRedis } from './redis-client.js';
import { parsedValue } from './values.js';

const INDEX_PREFIX = 'user:chat:';
const MESSAGE_PREFIX = 'chat:';
/** Keys per MGET and per SCAN step. */
const PAGE = 500;

export async function* sortedIndexFromKv(entries: AsyncIterable<KvItem>): AsyncIterable<SourceItem> {
  const messages = new Map<string, unknown>();
  const indexes: { user: string; members: unknown }[] = [];
  for await (const item of entries) {
    if (item.kind === 'error') {
      yield item;
      continue;
    }
    const { key, value } = item.entry;
    if (key.startsWith(INDEX_PREFIX)) indexes.push({ user: key.slice(INDEX_PREFIX.length), members: value });
    else if (key.startsWith(MESSAGE_PREFIX)) messages.set(key, value);
    else
      yield {
        kind: 'error',
        error: { source: key, reason: 'not a key of this layout (chat:<id> or user:chat:<user>)' },
      };
  }
  for (const { user, members } of indexes) {
    if (!Array.isArray(members)) {
      yield { kind: 'error', error: { source: INDEX_PREFIX + user, reason: 'expected an array of { score, member }' } };
      continue;
    }
    const records: SourceRecord[] = [];
    for (const entry of members as { score?: unknown; member?: unknown }[]) {
      const member = typeof entry?.member === 'string' ? entry.member : undefined;
      if (member === undefined || !messages.has(member)) {
        yield {
          kind: 'error',
          error: { source: `${INDEX_PREFIX}${user} → ${String(member)}`, reason: 'the index names no stored message' },
        };
        continue;
      }
      records.push({ key: member, value: messages.get(member), time: entry.score });
    }
    yield { kind: 'conversation', conversation: { key: user, records: sortedByScore(records) } };
  }
}

export async function* sortedIndexFromRedis(source: string): AsyncIterable<SourceItem> {
  const { redis, params } = await openRedis(source, ['keyPrefix']);
  const prefix = params.keyPrefix ?? '';
  try {
    const users: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${globEscaped(prefix)}${INDEX_PREFIX}*`, 'COUNT', PAGE);
      users.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    // SCAN returns keys in no order and may return one twice: sorted and unique, a run is repeatable.
    for (const key of [...new Set(users)].sort()) {
      const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
      const members: { member: string; score: string }[] = [];
      for (let i = 0; i < flat.length; i += 2)
        members.push({ member: flat[i] as string, score: flat[i + 1] as string });
      const records: SourceRecord[] = [];
      for (let i = 0; i < members.length; i += PAGE) {
        const page = members.slice(i, i + PAGE);
        const values = await redis.mget(page.map((entry) => prefix + entry.member));
        for (const [n, entry] of page.entries()) {
          const value = values[n];
          const parsed = value === null || value === undefined ? undefined : parsedValue(value);
          if (parsed === undefined) {
            yield {
              kind: 'error',
              error: {
                source: `${key} → ${entry.member}`,
                reason: value === null ? 'the index names no stored message' : 'the message is not JSON',
              },
            };
          } else records.push({ key: entry.member, value: parsed, time: Number(entry.score) });
        }
      }
      yield { kind: 'conversation', conversation: { key: key.slice(prefix.length + INDEX_PREFIX.length), records } };
    }
  } finally {
    await redis.quit();
  }
}

/**
 * Deletes a matched user's messages: their `chat:` keys, and their members of the user's set (the
 * set goes when it is empty; members added since stay).
 */
export function sortedIndexRedisDeleter(source: string): SourceDeleter {
  let connection: ReturnType<typeof openRedis> | undefined;
  return {
    async remove(conversation: SourceConversation): Promise<void> {
      const members = conversation.records.map((record) => record.key);
      if (members.length === 0) return;
      connection ??= openRedis(source, ['keyPrefix']);
      const { redis, params } = await connection;
      const prefix = params.keyPrefix ?? '';
      await redis
        .multi()
        .del(...members.map((member) => prefix + member))
        .zrem(`${prefix}${INDEX_PREFIX}${conversation.key}`, ...members)
        .exec();
    },
    async finish(): Promise<boolean> {
      if (connection !== undefined) await (await connection).redis.quit();
      return true;
    },
  };
}

/** A key prefix as a SCAN pattern that matches it literally. */
function globEscaped(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}

/** The members in their set's order: by score, then by member (Redis's own order). */
function sortedByScore(records: SourceRecord[]): SourceRecord[] {
  return records.sort((a, b) => Number(a.time) - Number(b.time) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
