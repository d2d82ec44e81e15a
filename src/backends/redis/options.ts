/** What `redisBackend` takes; a leaf file so that every part of the engine can name it. */

/**
 * The part of an ioredis client (`Redis` or `Cluster`) the backend uses, so any compatible client
 * will do and ioredis is never a hard dependency.
 */
export interface RedisClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<unknown>;
  /** True for a Redis Cluster client (ioredis sets it): the backend then keeps its cross-slot indexes itself. */
  readonly isCluster?: boolean;
  /** A cluster client's connections to each node (ioredis `Cluster#nodes`): `compact` rewrites every node's files. */
  nodes?(role: 'all'): RedisClient[];
}

export interface RedisOptions {
  /** A `redis://` or `rediss://` URL; default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Redis Cluster seed nodes as `host:port`; used instead of `url`. */
  cluster?: string[];
  /** Credentials for the cluster nodes (a `url` carries its own). */
  username?: string;
  password?: string;
  /** A client of your own (ioredis `Redis` or `Cluster`); the backend never closes it. */
  client?: RedisClient;
  /** Prepended to every key; must not contain `{` or `}`. Default `chatstore:`. */
  keyPrefix?: string;
}
