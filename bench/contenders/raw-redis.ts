/**
 * The floor on Redis: ioredis with the minimal sorted-set timeline, per conversation a seq counter
 * (INCR), a sorted set of seqs (score = seq) and a hash of JSON bodies, all under the hash tag
 * `{conversationId}` so that it runs on Redis Cluster too. An append is INCR, then ZADD + HSET in
 * one pipeline; last-N is ZREVRANGE + HMGET and parses the JSON, as any application must. No ids,
 * no idempotency, no atomicity between the counter and the writes, no indexes across
 * conversations: it does less than chatstore on purpose.
 */
import type { Cluster, Redis } from 'ioredis';
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';
import { connectRedis, deletePrefix, type RedisDurability } from './_redis.js';

/** Where the floor runs: the workspace's Redis, or a Redis Cluster given by its seed nodes. */
export type RawRedisTarget = { kind: 'single' } | { kind: 'cluster'; nodes: () => Promise<string[]> };

/**
 * @example rawRedisContender({ kind: 'single' }, durability)
 */
export function rawRedisContender(
  target: RawRedisTarget,
  durability: RedisDurability,
  extra: Partial<Contender> = {},
): Contender {
  return {
    name: target.kind === 'single' ? 'raw ioredis' : 'raw ioredis cluster',
    kind: 'raw',
    engine: target.kind === 'single' ? 'redis' : 'redis-cluster',
    durabilityLabel: durability.label,
    durability: durability.sentence,
    notRun: { W5: { status: 'n/a', reason: 'the minimal timeline has no full-text index' } },
    ...extra,
    async open(workspace): Promise<ContenderInstance> {
      const redis: Redis | Cluster =
        target.kind === 'single' ? await connectRedis(workspace.redisUrl) : await connectCluster(await target.nodes());
      const keys = (conversationId: string) => {
        const base = `${workspace.keyPrefix}{${conversationId}}:`;
        return { seq: `${base}seq`, index: `${base}idx`, bodies: `${base}msg` };
      };
      const read = async (conversationId: string, seqs: string[]): Promise<ReadMessage[]> => {
        if (seqs.length === 0) return [];
        const bodies = await redis.hmget(keys(conversationId).bodies, ...seqs);
        return bodies.map((body, i) => ({ ...JSON.parse(body as string), seq: Number(seqs[i]) }));
      };
      const written = new Set<string>();

      return {
        async append(conversationId, message) {
          const k = keys(conversationId);
          written.add(conversationId);
          const seq = await redis.incr(k.seq);
          await redis.pipeline().zadd(k.index, seq, seq).hset(k.bodies, seq, JSON.stringify(message)).exec();
        },
        async appendBatch(conversationId, messages: NewMessage[]) {
          const k = keys(conversationId);
          written.add(conversationId);
          const last = await redis.incrby(k.seq, messages.length);
          const first = last - messages.length + 1;
          const pipeline = redis.pipeline();
          pipeline.zadd(k.index, ...messages.flatMap((_, i) => [first + i, first + i]));
          pipeline.hset(k.bodies, ...messages.flatMap((message, i) => [first + i, JSON.stringify(message)]));
          await pipeline.exec();
        },
        async lastN(conversationId, n) {
          const seqs = await redis.zrevrange(keys(conversationId).index, 0, n - 1);
          return (await read(conversationId, seqs)).reverse();
        },
        async pageBack(conversationId, cursor, n) {
          const index = keys(conversationId).index;
          const seqs =
            typeof cursor === 'number'
              ? await redis.zrevrangebyscore(index, `(${cursor}`, '-inf', 'LIMIT', 0, n)
              : await redis.zrevrange(index, 0, n - 1);
          const messages = await read(conversationId, seqs);
          const last = messages[messages.length - 1];
          return last === undefined || messages.length < n || last.seq <= 1
            ? { messages }
            : { messages, next: last.seq };
        },
        async readAll(conversationId) {
          const seqs = await redis.zrange(keys(conversationId).index, '0', '-1');
          const all: ReadMessage[] = [];
          for (let i = 0; i < seqs.length; i += 1000)
            all.push(...(await read(conversationId, seqs.slice(i, i + 1000))));
          return all;
        },
        async close() {
          try {
            if (target.kind === 'single') await deletePrefix(redis as Redis, workspace.keyPrefix);
            else for (const id of written) await redis.unlink(...Object.values(keys(id)));
          } finally {
            redis.disconnect();
          }
        },
      };
    },
  };
}

async function connectCluster(nodes: string[]): Promise<Cluster> {
  const { Cluster } = await import('ioredis');
  const cluster = new Cluster(
    nodes.map((node) => ({ host: node.split(':')[0] as string, port: Number(node.split(':')[1]) })),
    { lazyConnect: true, redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 1 } },
  );
  cluster.on('error', () => undefined);
  await cluster.connect();
  return cluster;
}
