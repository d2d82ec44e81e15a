/**
 * The Redis connection of the layouts read from Redis (`sorted-index`, `langchain-redis`): the URL
 * without the layout's own parameters, through ioredis, failing fast when Redis is unreachable.
 */

/** The part of an ioredis client the layouts use. */
export interface RedisClient {
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  zrange(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<string[]>;
  mget(keys: string[]): Promise<(string | null)[]>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  multi(): RedisPipeline;
  quit(): Promise<unknown>;
}

export interface RedisPipeline {
  del(...keys: string[]): RedisPipeline;
  zrem(key: string, ...members: string[]): RedisPipeline;
  ltrim(key: string, start: number, stop: number): RedisPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** Connects to `source` and returns it with the values of `params`, which the layout reads from the URL. */
export async function openRedis(
  source: string,
  params: readonly string[],
): Promise<{ redis: RedisClient; params: Record<string, string | undefined> }> {
  const url = new URL(source);
  const values: Record<string, string | undefined> = {};
  for (const name of [...params, 'layout']) {
    values[name] = url.searchParams.get(name) ?? undefined;
    url.searchParams.delete(name);
  }
  const { Redis } = await import('ioredis');
  const redis = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return { redis: redis as unknown as RedisClient, params: values };
}
