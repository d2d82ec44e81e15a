/**
 * The Redis contenders of `--backend redis` and `--backend redis-cluster`: chatstore on the redis
 * backend and the raw ioredis floor, on the same server. `redis` uses the workspace's Redis
 * (`REDIS_URL`, default DB 11); `redis-cluster` uses `REDIS_CLUSTER_NODES` (`host:port,…`) or, when
 * unset, starts the test cluster on ports 7000–7005 and stops it, by pid, when the bench exits.
 * Every instance deletes exactly the keys under its workspace prefix when it closes.
 */
import { spawnSync } from 'node:child_process';
import type { Redis } from 'ioredis';
import { CONFORMANCE_BASE_PORT, ensureCluster, killClusterNow } from '../../test/fixtures/redis-cluster.js';
import type { Contender, Workspace } from '../contender.js';
import { cleaningUp } from './_cleanup.js';
import { connectRedis, deletePrefix, KEY_ROOT, type RedisDurability } from './_redis.js';
import { chatstoreContender } from './chatstore.js';
import { rawRedisContender } from './raw-redis.js';

/** A Redis 7 without RediSearch has no full-text index: chatstore's search answers UNSUPPORTED. */
const NO_SEARCH = { status: 'n/a', reason: 'Redis 7 without RediSearch has no full-text index' } as const;

/** The cluster keeps 100k messages per conversation in this run (the target's size for redis-cluster). */
const CLUSTER_MAX_HISTORY = 100_000;

/**
 * @example const contenders = redisContenders('redis-cluster');
 */
export function redisContenders(kind: 'redis' | 'redis-cluster'): Contender[] {
  if (kind === 'redis') {
    const durability = probeDurability(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/11');
    const cleanup = async (workspace: Workspace) => {
      const redis = await connectRedis(workspace.redisUrl);
      try {
        await deletePrefix(redis, workspace.keyPrefix);
      } finally {
        redis.disconnect();
      }
    };
    return [
      cleaningUp(
        chatstoreContender({
          name: 'chatstore redis',
          engine: 'redis',
          durabilityLabel: durability.label,
          durability: durability.sentence,
          notRun: { W5: NO_SEARCH },
          url: (workspace) => withPrefix(workspace.redisUrl, workspace.keyPrefix),
        }),
        cleanup,
      ),
      rawRedisContender({ kind: 'single' }, durability),
    ];
  }
  const durability: RedisDurability = process.env.REDIS_CLUSTER_NODES
    ? probeDurability(`redis://${process.env.REDIS_CLUSTER_NODES.split(',')[0]}`)
    : {
        label: 'Redis Cluster AOF everysec',
        sentence:
          'Redis Cluster, AOF appendfsync everysec on every node, asynchronous replicas: up to ~1 s lost on a crash, acknowledged writes may be lost on failover',
      };
  const maxSize = { W3: CLUSTER_MAX_HISTORY };
  const store = chatstoreContender({
    name: 'chatstore redis-cluster',
    engine: 'redis-cluster',
    durabilityLabel: durability.label,
    durability: durability.sentence,
    notRun: { W5: NO_SEARCH },
    maxSize,
    url: (workspace) => withPrefix(`redis+cluster://${seedNodes().join(',')}`, workspace.keyPrefix),
  });
  return [
    cleaningUp(
      {
        ...store,
        async open(workspace) {
          await clusterNodes();
          return store.open(workspace);
        },
      },
      (workspace) => deleteClusterPrefix(workspace.keyPrefix),
    ),
    rawRedisContender({ kind: 'cluster', nodes: clusterNodes }, durability, { maxSize }),
  ];
}

function withPrefix(url: string, keyPrefix: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}keyPrefix=${encodeURIComponent(keyPrefix)}`;
}

/** `REDIS_CLUSTER_NODES`, else the nodes of the test cluster. */
function seedNodes(): string[] {
  const given = process.env.REDIS_CLUSTER_NODES;
  if (given !== undefined && given !== '') return given.split(',');
  return Array.from({ length: 6 }, (_, i) => `127.0.0.1:${CONFORMANCE_BASE_PORT + i}`);
}

let cluster: Promise<string[]> | undefined;

/** The seed nodes, with the test cluster started once (and stopped when the process exits) when none are given. */
function clusterNodes(): Promise<string[]> {
  const given = process.env.REDIS_CLUSTER_NODES;
  if (given !== undefined && given !== '') return Promise.resolve(seedNodes());
  cluster ??= ensureCluster(CONFORMANCE_BASE_PORT).then((started) => {
    process.once('exit', () => killClusterNow(CONFORMANCE_BASE_PORT));
    return started.nodes;
  });
  return cluster;
}

async function deleteClusterPrefix(prefix: string): Promise<void> {
  if (!prefix.startsWith(KEY_ROOT)) throw new Error(`refusing to delete keys outside ${KEY_ROOT}: ${prefix}`);
  for (const node of await clusterNodes()) {
    const redis: Redis = await connectRedis(`redis://${node}`);
    try {
      if (((await redis.call('ROLE')) as [string])[0] !== 'master') continue;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(
          cursor,
          'MATCH',
          `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
          'COUNT',
          1000,
        );
        cursor = next;
        // One key per call: the keys of a batch live in different slots.
        for (const key of keys) await redis.unlink(key);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}

/** What the server persists, read with redis-cli when the contenders are listed (they are listed synchronously). */
function probeDurability(url: string): RedisDurability {
  const get = (name: string): string | undefined => {
    const result = spawnSync('redis-cli', ['-u', url, '--raw', 'CONFIG', 'GET', name], {
      encoding: 'utf8',
      timeout: 3000,
    });
    return result.status === 0 ? result.stdout.split('\n')[1] : undefined;
  };
  const appendonly = get('appendonly');
  const appendfsync = get('appendfsync');
  const save = get('save');
  if (appendonly === undefined) return { label: 'unknown', sentence: 'unknown (Redis not reachable with redis-cli)' };
  if (appendonly === 'yes') {
    return {
      label: `Redis AOF ${appendfsync}`,
      sentence: `Redis AOF on, appendfsync ${appendfsync}: ${appendfsync === 'always' ? 'fsync per write' : 'up to ~1 s of acknowledged writes lost on a crash'}`,
    };
  }
  return (save ?? '').trim() === ''
    ? {
        label: 'none (Redis, no AOF/RDB)',
        sentence: 'Redis AOF off, no RDB snapshots: nothing survives a Redis restart',
      }
    : {
        label: 'Redis RDB snapshots',
        sentence: `Redis AOF off, RDB snapshots "${save}": writes since the last snapshot lost on a crash`,
      };
}
