/**
 * The first old design: the whole conversation as one JSON value in Redis. Every append is GET,
 * parse, push, SET, with no lock between the read and the write, exactly as the old bots did it;
 * every read fetches and parses the whole history.
 */
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';
import { connectRedis, deletePrefix, type RedisDurability } from './_redis.js';

type Stored = NewMessage & { seq: number };

/** @example naiveRedisBlobContender({ label: 'Redis AOF everysec', sentence: '…' }) */
export function naiveRedisBlobContender(durability: RedisDurability, extra: Partial<Contender> = {}): Contender {
  return {
    name: 'naive Redis JSON blob',
    kind: 'naive',
    engine: 'redis',
    durabilityLabel: durability.label,
    durability: durability.sentence,
    notRun: { W5: { status: 'n/a', reason: 'no search in this design' } },
    ...extra,
    async open(workspace): Promise<ContenderInstance> {
      const redis = await connectRedis(workspace.redisUrl);
      const key = (conversationId: string) => `${workspace.keyPrefix}conv:${conversationId}`;
      const load = async (conversationId: string): Promise<Stored[]> => {
        const text = await redis.get(key(conversationId));
        return text === null ? [] : (JSON.parse(text) as Stored[]);
      };
      const push = async (conversationId: string, messages: NewMessage[]) => {
        const history = await load(conversationId);
        for (const message of messages) history.push({ ...message, seq: history.length + 1 });
        await redis.set(key(conversationId), JSON.stringify(history));
      };
      return {
        append: (conversationId, message) => push(conversationId, [message]),
        appendBatch: push,
        async lastN(conversationId, n) {
          return (await load(conversationId)).slice(-n);
        },
        async pageBack(conversationId, cursor, n) {
          const history = await load(conversationId);
          const end = typeof cursor === 'number' ? cursor - 1 : history.length;
          const start = Math.max(0, end - n);
          const messages: ReadMessage[] = history.slice(start, end).reverse();
          return start === 0 ? { messages } : { messages, next: start + 1 };
        },
        readAll: load,
        async close() {
          try {
            await deletePrefix(redis, workspace.keyPrefix);
          } finally {
            redis.disconnect();
          }
        },
      };
    },
  };
}
