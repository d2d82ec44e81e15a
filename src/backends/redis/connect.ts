/**
 * Opening and closing: store-URL parts to options, the ioredis client (one server or a cluster)
 * with the timeouts that turn a silent server into `UNAVAILABLE`, and the shared context.
 */
import type { Backend } from '../../backend.js';
import { ChatStoreError, redact } from '../../errors.js';
import { lazyDriver } from '../lazy-driver.js';
import { type Connection, type RedisContext, redisContext } from './context.js';
import { redisKeys } from './keys.js';
import type { RedisClient, RedisOptions } from './options.js';

type IoRedisModule = Pick<typeof import('ioredis'), 'Redis' | 'Cluster'>;

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_PREFIX = 'chatstore:';
/** No command waits longer than this: a server that stopped answering is UNAVAILABLE, never a hang. */
const COMMAND_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 3_000;

const MISSING_DRIVER_MESSAGE = 'the redis backend needs ioredis: npm install ioredis';

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(
  () => import('ioredis').then((module): IoRedisModule => ({ Redis: module.Redis, Cluster: module.Cluster })),
  MISSING_DRIVER_MESSAGE,
);

/**
 * Options from the parts of a store URL (`openStore`): `redis://[user:password@]host[:port][/db]`
 * or `redis+cluster://[user:password@]host:port,host:port`, with `?keyPrefix=app:`. `location` is
 * already percent-decoded, so the credentials are split at the last `@` and encoded again.
 * @example redisUrlOptions('redis+cluster', '127.0.0.1:7000,127.0.0.1:7001', new URLSearchParams())
 */
export function redisUrlOptions(
  scheme: 'redis' | 'redis+cluster',
  location: string,
  params: URLSearchParams,
): RedisOptions {
  const at = location.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : location.slice(0, at);
  const hosts = location.slice(at + 1);
  const colon = userinfo?.indexOf(':') ?? -1;
  const username = userinfo === undefined ? undefined : colon === -1 ? userinfo : userinfo.slice(0, colon);
  const password = userinfo === undefined || colon === -1 ? undefined : userinfo.slice(colon + 1);
  const keyPrefix = params.get('keyPrefix');
  const prefix = keyPrefix === null ? {} : { keyPrefix };
  if (scheme === 'redis') {
    const auth =
      userinfo === undefined ? '' : `${encodeURIComponent(username ?? '')}:${encodeURIComponent(password ?? '')}@`;
    return { url: `redis://${auth}${hosts}`, ...prefix };
  }
  return {
    cluster: hosts
      .replace(/\/+$/, '')
      .split(',')
      .map((node) => node.trim())
      .filter((node) => node !== ''),
    ...(username === undefined || username === '' ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...prefix,
  };
}

/** Checks the options, connects unless the caller brought a client, and builds the shared context. */
export async function connect(options: RedisOptions): Promise<RedisContext> {
  const prefix = checkPrefix(options.keyPrefix ?? DEFAULT_PREFIX);
  const connection = options.client === undefined ? await connectClient(options) : undefined;
  const client = options.client ?? (connection?.client as RedisClient);
  return redisContext(client, redisKeys(prefix), connection);
}

/** `close`: waits for the background upkeep, then closes the client the backend created (never the caller's). */
export function connectionOperations({ state, connection }: RedisContext): Pick<Backend, 'close'> {
  return {
    async close(): Promise<void> {
      if (state.closed) return;
      state.closed = true;
      await Promise.allSettled([...state.pending]);
      if (connection !== undefined) await connection.close();
    },
  };
}

function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'keyPrefix must be a string without { or }', { path: 'keyPrefix' });
  }
  return prefix;
}

/** A client of its own to the server or cluster `options` name (the tiers' shared tails use one too). */
export async function connectClient(options: RedisOptions): Promise<Connection> {
  const { Redis, Cluster } = await loadDriver();
  const where = options.cluster === undefined ? redact(options.url ?? DEFAULT_URL) : options.cluster.join(',');
  let client: InstanceType<typeof Redis> | InstanceType<typeof Cluster>;
  if (options.cluster !== undefined) {
    if (options.cluster.length === 0) {
      throw new ChatStoreError('INVALID_ARGUMENT', 'cluster needs at least one host:port', { path: 'cluster' });
    }
    client = new Cluster(options.cluster.map(parseNode), {
      lazyConnect: true,
      enableAutoPipelining: false,
      // Failing fast while the whole cluster is unreachable; during a failover commands are retried
      // (retryDelayOnFailover × maxRedirections) until the new master serves the slot.
      enableOfflineQueue: false,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 100,
      maxRedirections: 32,
      slotsRefreshTimeout: 2000,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      redisOptions: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        commandTimeout: COMMAND_TIMEOUT_MS,
        maxRetriesPerRequest: 1,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
      },
    });
  } else {
    client = new Redis(options.url ?? DEFAULT_URL, {
      lazyConnect: true,
      enableAutoPipelining: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // A command waits through at most one reconnection attempt, then fails as UNAVAILABLE.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
  }
  // Errors reach the caller through the failing command; the event would only be noise.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    const reason = cause instanceof Error ? redact(cause.message) : String(cause);
    throw new ChatStoreError('UNAVAILABLE', `redis: cannot connect to ${where}: ${reason}`, { cause });
  }
  return {
    client: client as unknown as RedisClient,
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

function parseNode(node: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(node.trim());
  if (match === null) {
    throw new ChatStoreError('INVALID_ARGUMENT', `cluster node "${node}" is not host:port`, { path: 'cluster' });
  }
  return { host: match[1] as string, port: Number(match[2]) };
}
