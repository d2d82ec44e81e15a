/**
 * `openStore(url)`: one URL picks the engine (docs/backends.md). Each scheme loads its backend module
 * lazily, so only the chosen engine's driver is ever imported.
 */
import type { Backend } from './backend.js';
import { archiveTier } from './backends/archive/archive-tier.js';
import { archiveUrlOptions } from './backends/archive/url.js';
import { sharedTails } from './backends/tiers/shared-tails.js';
import { tailCache } from './backends/tiers/tail-cache.js';
import { type SharedTailsUrl, sharedTailsUrlOptions, tailCacheUrlOptions } from './backends/tiers/url.js';
import { ChatStoreError } from './errors.js';
import { ChatStore, type ChatStoreOptions } from './store.js';

/** The URL used when neither an argument nor `CHATSTORE_URL` names one. */
export const DEFAULT_URL = 'sqlite://./data/chatstore.db';

/** A store URL split into its parts; `location` is everything between `scheme://` and `?`. */
export interface StoreUrl {
  scheme: string;
  location: string;
  params: URLSearchParams;
}

type BackendLoader = (url: StoreUrl) => Promise<Backend>;

const LOADERS: Readonly<Record<string, BackendLoader>> = {
  memory: async () => (await import('./backends/memory/index.js')).memoryBackend(),
  sqlite: async (url) => {
    const { sqliteBackend, sqliteUrlOptions } = await import('./backends/sqlite/index.js');
    return sqliteBackend(sqliteUrlOptions(url.location, url.params));
  },
  postgres: (url) => loadPostgres(url),
  // libpq accepts both spellings, and so do the URLs users copy from their provider.
  postgresql: (url) => loadPostgres(url),
  mysql: (url) => loadMysql(url),
  // MariaDB speaks the same protocol and runs the same backend.
  mariadb: (url) => loadMysql(url),
  redis: (url) => loadRedis('redis', url),
  'redis+cluster': (url) => loadRedis('redis+cluster', url),
};

async function loadPostgres(url: StoreUrl): Promise<Backend> {
  const { postgresBackend, postgresUrlOptions } = await import('./backends/postgres/index.js');
  return postgresBackend(postgresUrlOptions(url.location, url.params));
}

async function loadMysql(url: StoreUrl): Promise<Backend> {
  const { mysqlBackend, mysqlUrlOptions } = await import('./backends/mysql/index.js');
  return mysqlBackend(mysqlUrlOptions(url.location, url.params));
}

async function loadRedis(scheme: 'redis' | 'redis+cluster', url: StoreUrl): Promise<Backend> {
  const { redisBackend, redisUrlOptions } = await import('./backends/redis/index.js');
  return redisBackend(redisUrlOptions(scheme, url.location, url.params));
}

/** The schemes `openStore` understands. @example SCHEMES.includes('sqlite') */
export const SCHEMES: readonly string[] = Object.keys(LOADERS);

/**
 * Parses `scheme://location?params`. Paths stay as written: `sqlite://./data/chat.db` is relative,
 * `sqlite:///var/lib/chat.db` absolute.
 * @example parseStoreUrl('sqlite://./chat.db?durability=normal').params.get('durability') === 'normal'
 */
export function parseStoreUrl(url: string): StoreUrl {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^?#]*)(?:\?([^#]*))?$/i.exec(url);
  if (match === null) {
    // The text is not echoed: a malformed URL may hold a password that redaction cannot find.
    throw new ChatStoreError('INVALID_ARGUMENT', 'not a store URL (expected scheme://location?options)', {
      path: 'url',
    });
  }
  const [, scheme = '', location = '', query = ''] = match;
  let decoded: string;
  try {
    decoded = decodeURIComponent(location);
  } catch (cause) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'not a store URL: bad percent-encoding', { path: 'url', cause });
  }
  return { scheme: scheme.toLowerCase(), location: decoded, params: new URLSearchParams(query) };
}

/** The backend a URL names, without a store around it. @example const backend = await openBackend('memory://'); */
export async function openBackend(url: string): Promise<Backend> {
  const parsed = parseStoreUrl(url);
  const load = LOADERS[parsed.scheme];
  if (load === undefined) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `unknown store scheme "${parsed.scheme}" (known: ${SCHEMES.join(', ')})`,
      { path: 'url' },
    );
  }
  const archive = archiveUrlOptions(parsed.params);
  const shared = sharedTailsUrlOptions(parsed.params);
  const tier = tailCacheUrlOptions(parsed.params, shared !== undefined);
  let backend = await load(parsed);
  try {
    if (archive !== undefined) backend = await archiveTier(backend, archive);
    if (shared !== undefined) backend = await sharedTailsOver(backend, shared);
    return tier === undefined ? backend : await tailCache(backend, tier);
  } catch (error) {
    await backend.close();
    throw error;
  }
}

/** The shared tier (L2) over `backend`, on the Redis its `cacheUrl` names. */
async function sharedTailsOver(backend: Backend, shared: SharedTailsUrl): Promise<Backend> {
  const cache = parseStoreUrl(shared.url);
  const { redisTailStore, redisUrlOptions } = await import('./backends/redis/index.js');
  const options = redisUrlOptions(cache.scheme as 'redis' | 'redis+cluster', cache.location, cache.params);
  const tails = await redisTailStore({
    ...options,
    ...(shared.keyPrefix === undefined ? {} : { keyPrefix: shared.keyPrefix }),
  });
  return sharedTails(backend, tails, {
    ...(shared.maxMessagesPerConversation === undefined
      ? {}
      : { maxMessagesPerConversation: shared.maxMessagesPerConversation }),
  });
}

/**
 * Opens a store from a URL, else `CHATSTORE_URL`, else the default SQLite file.
 * @example
 * import { openStore } from 'chatstore/open';
 * const store = await openStore('sqlite://./data/chat.db');
 */
export async function openStore(url?: string, options: ChatStoreOptions = {}): Promise<ChatStore> {
  const chosen = url ?? process.env.CHATSTORE_URL ?? DEFAULT_URL;
  return new ChatStore(await openBackend(chosen), options);
}
