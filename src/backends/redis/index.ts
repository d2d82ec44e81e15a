/**
 * The redis backend (docs/backends.md): the sorted-set timeline made atomic, on one Redis server
 * (`redis://`) or on Redis Cluster (`redis+cluster://host:port,host:port`), through ioredis.
 *
 * Per conversation (key layout in `keys.ts`): a hash with the seq counter and the stats
 * counters, a sorted set of the live messages with score = seq (never a timestamp: ties and clock
 * skew) and the message itself as the member, a second one for soft-deleted messages, and the id
 * and externalId maps. Every key of a conversation carries the hash tag `{conversationId}`, so they
 * share one slot and one Lua script (`APPEND`) does the duplicate check, the seq, the index, the
 * body and the counters in one atomic step: the rules of `plan.ts`, re-implemented in Lua.
 * `recent`, `list` and `context` are one ZRANGE … LIMIT on the live set: O(log n + page) at any
 * history size, and no script on the read path.
 *
 * Durability is the server's: with AOF `appendfsync everysec` Redis may lose the last second of
 * acknowledged writes on a crash, and a failover can lose writes the old master acknowledged but had
 * not yet sent to its replica. That is why the tiered setup uses Redis as L2 in front of a database.
 *
 * Lookups that span conversations (a message by id, conversations by activity or participant,
 * erasure) use global indexes, which on Redis Cluster live in other slots and are kept around the
 * scripts: `global-index.ts` explains how, and its cost; `claims.ts` how a message id stays unique
 * across conversations.
 *
 * The parts: `connect.ts` (options, client, closing), `context.ts` (what the parts share: script
 * runner, error guard, state), `errors.ts`, `append.ts`, `messages.ts`, `conversations.ts`,
 * `maintenance.ts` (stats, erasure, export scan); keys in `keys.ts`, Lua in `scripts.ts`.
 */
import type { Backend } from '../../backend.js';
import { appendOperations } from './append.js';
import { connect, connectionOperations } from './connect.js';
import { conversationOperations } from './conversations.js';
import { maintenanceOperations } from './maintenance.js';
import { messageOperations } from './messages.js';

import type { RedisOptions } from './options.js';

export { redisUrlOptions } from './connect.js';
export type { RedisClient, RedisOptions } from './options.js';
export { type RedisTailStoreOptions, redisTailStore } from './tail-store.js';

/**
 * Connects to Redis (or Redis Cluster) and returns the backend; `UNAVAILABLE` when the server
 * cannot be reached within a few seconds.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { redisBackend } from 'chatstore/redis';
 * const store = new ChatStore(await redisBackend({ url: process.env.REDIS_URL }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function redisBackend(options: RedisOptions = {}): Promise<Backend> {
  const ctx = await connect(options);
  return {
    name: 'redis',
    ...appendOperations(ctx),
    ...messageOperations(ctx),
    ...conversationOperations(ctx),
    ...maintenanceOperations(ctx),
    ...connectionOperations(ctx),
  };
}
