/**
 * Redis plumbing shared by the naive Redis contenders: a client that fails fast when the server is
 * missing, what the server persists, and removing exactly the keys a bench created.
 */
import type { Redis } from 'ioredis';

/** The Redis the bench uses unless `REDIS_URL` says otherwise; DB 11 keeps it apart from other work. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/11';

/** Every key a bench creates starts with this. */
export const KEY_ROOT = 'chatstore-bench:';

/** @example const redis = await connectRedis('redis://127.0.0.1:6379/11'); */
export async function connectRedis(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => {
    // surfaced by the failing command instead
  });
  await redis.connect();
  return redis;
}

/** What the Redis server persists: a short label for tables and a sentence for the report. */
export interface RedisDurability {
  label: string;
  sentence: string;
}

/** Server version and what it persists, for the report. Throws when Redis is unreachable. */
export async function describeRedis(url: string): Promise<{ version: string; durability: RedisDurability }> {
  const redis = await connectRedis(url);
  try {
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const [, appendonly = '?'] = (await redis.config('GET', 'appendonly')) as string[];
    const [, appendfsync = '?'] = (await redis.config('GET', 'appendfsync')) as string[];
    const [, save = ''] = (await redis.config('GET', 'save')) as string[];
    const aof = appendonly === 'yes' ? `AOF on, appendfsync ${appendfsync}` : 'AOF off';
    const rdb = save.trim() === '' ? 'no RDB snapshots' : `RDB snapshots "${save}"`;
    const [label, lost] =
      appendonly === 'yes' && appendfsync === 'always'
        ? ['Redis AOF always', 'fsync per write']
        : appendonly === 'yes'
          ? [`Redis AOF ${appendfsync}`, 'up to ~1 s of writes lost on a crash']
          : save.trim() === ''
            ? ['none (Redis, no AOF/RDB)', 'nothing survives a Redis restart']
            : ['Redis RDB snapshots', 'writes since the last snapshot lost on a crash'];
    return { version, durability: { label, sentence: `Redis ${aof}, ${rdb}: ${lost}` } };
  } finally {
    redis.disconnect();
  }
}

/** Unlinks every key under `prefix` (which must start with KEY_ROOT); never touches other keys. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix.startsWith(KEY_ROOT)) throw new Error(`refusing to delete keys outside ${KEY_ROOT}: ${prefix}`);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
