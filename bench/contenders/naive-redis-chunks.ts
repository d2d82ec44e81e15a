/**
 * The chunked old design: a metadata key per conversation (`{ count }`) and the messages in JSON
 * chunks of 50. An append reads the metadata and the last chunk, pushes, and writes both back, with
 * no lock or transaction around the read-modify-write, as the old code did.
 */
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';
import { connectRedis, deletePrefix, type RedisDurability } from './_redis.js';

type Stored = NewMessage & { seq: number };

const CHUNK = 50;

/** @example naiveRedisChunksContender({ label: 'Redis AOF everysec', sentence: '…' }) */
export function naiveRedisChunksContender(durability: RedisDurability, extra: Partial<Contender> = {}): Contender {
  return {
    name: 'naive Redis chunks of 50',
    kind: 'naive',
    engine: 'redis',
    durabilityLabel: durability.label,
    durability: durability.sentence,
    notRun: { W5: { status: 'n/a', reason: 'no search in this design' } },
    ...extra,
    async open(workspace): Promise<ContenderInstance> {
      const redis = await connectRedis(workspace.redisUrl);
      const metaKey = (conversationId: string) => `${workspace.keyPrefix}conv:${conversationId}:meta`;
      const chunkKey = (conversationId: string, chunk: number) =>
        `${workspace.keyPrefix}conv:${conversationId}:chunk:${chunk}`;
      const count = async (conversationId: string): Promise<number> => {
        const text = await redis.get(metaKey(conversationId));
        return text === null ? 0 : (JSON.parse(text) as { count: number }).count;
      };
      /** Messages with seq in [first, last], oldest first. */
      const slice = async (conversationId: string, first: number, last: number): Promise<Stored[]> => {
        if (last < first) return [];
        const firstChunk = Math.floor((first - 1) / CHUNK);
        const lastChunk = Math.floor((last - 1) / CHUNK);
        const keys = [];
        for (let chunk = firstChunk; chunk <= lastChunk; chunk++) keys.push(chunkKey(conversationId, chunk));
        const texts = await redis.mget(...keys);
        const messages = texts.flatMap((text) => (text === null ? [] : (JSON.parse(text) as Stored[])));
        return messages.filter((message) => message.seq >= first && message.seq <= last);
      };
      const push = async (conversationId: string, messages: NewMessage[]) => {
        let total = await count(conversationId);
        let chunkIndex = Math.floor(total / CHUNK);
        let chunk: Stored[] =
          total % CHUNK === 0 ? [] : JSON.parse((await redis.get(chunkKey(conversationId, chunkIndex))) ?? '[]');
        const writes: string[] = [];
        for (const message of messages) {
          chunk.push({ ...message, seq: ++total });
          if (chunk.length === CHUNK) {
            writes.push(chunkKey(conversationId, chunkIndex), JSON.stringify(chunk));
            chunkIndex += 1;
            chunk = [];
          }
        }
        if (chunk.length > 0) writes.push(chunkKey(conversationId, chunkIndex), JSON.stringify(chunk));
        if (writes.length > 0) await redis.mset(...writes);
        await redis.set(metaKey(conversationId), JSON.stringify({ count: total, chunkSize: CHUNK }));
      };
      return {
        append: (conversationId, message) => push(conversationId, [message]),
        appendBatch: push,
        async lastN(conversationId, n) {
          const total = await count(conversationId);
          return slice(conversationId, Math.max(1, total - n + 1), total);
        },
        async pageBack(conversationId, cursor, n) {
          const end = typeof cursor === 'number' ? cursor - 1 : await count(conversationId);
          const start = Math.max(1, end - n + 1);
          const messages: ReadMessage[] = (await slice(conversationId, start, end)).reverse();
          return start <= 1 ? { messages } : { messages, next: start };
        },
        async readAll(conversationId) {
          return slice(conversationId, 1, await count(conversationId));
        },
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
