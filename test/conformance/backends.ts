/**
 * The one list of backends the conformance suite runs (the invariants in docs/ARCHITECTURE.md). Adding an engine is adding one
 * entry to ALL_BACKENDS. `CHATSTORE_BACKENDS=memory,sqlite` narrows the list; an unknown name fails
 * loudly instead of silently running nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChatStoreApi } from '../../src/api.js';
import { type TailCacheOptions, tailCache } from '../../src/backends/tiers/tail-cache.js';
import { ChatStore, type ChatStoreOptions } from '../../src/store.js';
import { MYSQL_BACKENDS } from '../fixtures/mysql-conformance.js';
import { POSTGRES_BACKENDS } from '../fixtures/pg-conformance.js';
import { REDIS_BACKENDS } from '../fixtures/redis-conformance.js';

/** A store on fresh, empty storage, and how to dispose of both. */
export interface OpenedStore {
  /** The store under test: a `ChatStore`, or anything else that keeps its contract (the HTTP client). */
  store: ChatStoreApi;
  cleanup(): Promise<void>;
}

/** Storage that several OS processes can open at once. */
export interface SharedStorage {
  /** What a child process passes to `connect` to reach the same data (a file path, a URL). */
  location: string;
  cleanup(): Promise<void>;
}

/** For engines that several processes can share: how to create storage and connect to it. */
export interface BackendProcesses {
  create(): Promise<SharedStorage>;
  connect(location: string, options?: ChatStoreOptions): Promise<ChatStore>;
}

export interface BackendEntry {
  name: string;
  /** A store over fresh, empty storage; `options` go to the ChatStore (a fixed clock, say). */
  open(options?: ChatStoreOptions): Promise<OpenedStore>;
  /** Present when several processes can write the same data (absent for the in-process memory backend). */
  processes?: BackendProcesses;
  /** False when the engine has no full-text index: `search` must then answer UNSUPPORTED (the suite checks that). */
  search?: boolean;
  /**
   * `not-needed` when the engine keeps no bytes of removed data in its files (memory, SQLite), so
   * compaction has nothing to rewrite; `done` (the default) when it rewrites them; `unsupported`
   * when the platform lets nobody rewrite them (Durable Objects): asking is `UNSUPPORTED`.
   */
  compaction?: 'done' | 'not-needed' | 'unsupported';
  /**
   * The longest query text (URL-encoded) a call can carry; absent: no limit. Over HTTP a search
   * query travels in the URL, and the Node server takes at most 16 KiB of request head.
   */
  maxQueryBytes?: number;
  /**
   * True when messages appended without an id are named before they reach the store (the HTTP
   * client names them so that a retried append is a duplicate): their ids are then checked like
   * the caller's, against `maxIdLength`.
   */
  namesIds?: boolean;
}

async function temporaryDirectory(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'chatstore-conformance-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Closes the store (idempotent) before removing its storage, whatever the test did to it. */
function opened(store: ChatStore, removeStorage: () => Promise<void> = async () => {}): OpenedStore {
  return {
    store,
    async cleanup() {
      try {
        await store.close();
      } finally {
        await removeStorage();
      }
    },
  };
}

/** The tiers a sqlite entry puts in front of the engine. */
interface SqliteTiers {
  /** The in-process tier. */
  tail?: TailCacheOptions;
  /** The archive, in `archive/` beside the database file (shared by every store on that file). */
  archive?: boolean;
}

async function sqliteStore(path: string, options?: ChatStoreOptions, tiers: SqliteTiers = {}): Promise<ChatStore> {
  const { sqliteBackend } = await import('../../src/backends/sqlite/index.js');
  let backend = await sqliteBackend({ path });
  if (tiers.archive === true) {
    const { archiveTier } = await import('../../src/backends/archive/index.js');
    backend = await archiveTier(backend, { directory: join(dirname(path), 'archive'), lockStaleMs: 2000 });
  }
  return new ChatStore(tiers.tail === undefined ? backend : await tailCache(backend, tiers.tail), options);
}

/** A file of its own per store, shareable by processes; `tiers` puts tiers in front. */
function sqliteEntry(name: string, tiers?: SqliteTiers): BackendEntry {
  return {
    name,
    compaction: 'not-needed',
    async open(options) {
      const { dir, remove } = await temporaryDirectory();
      try {
        return opened(await sqliteStore(join(dir, 'chat.db'), options, tiers), remove);
      } catch (error) {
        await remove();
        throw error;
      }
    },
    processes: {
      async create() {
        const { dir, remove } = await temporaryDirectory();
        return { location: join(dir, 'chat.db'), cleanup: remove };
      },
      connect: (location, options) => sqliteStore(location, options, tiers),
    },
  };
}

/** The HTTP client of a served store; it names message ids with the test's `newId`, as the store would. */
async function httpClient(url: string, options: ChatStoreOptions | undefined, apiKey?: string): Promise<ChatStoreApi> {
  const { chatStoreClient } = await import('../../src/client/index.js');
  return chatStoreClient({
    url,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(options?.newId === undefined ? {} : { newId: options.newId }),
  });
}

/**
 * The HTTP client (`chatstore/client`) against the real Node server on loopback, port 0, serving a
 * ChatStore on a SQLite file of its own with the test's options; the client names message ids with
 * the same `newId`, as the store would. No `processes`: a child process cannot reach this server.
 */
function clientEntry(name: string): BackendEntry {
  return {
    name,
    compaction: 'not-needed',
    // 16 KiB of request head (Node's default) less the request line's path, the headers and a margin.
    maxQueryBytes: 15_000,
    namesIds: true,
    async open(options) {
      const { dir, remove } = await temporaryDirectory();
      const served: ChatStore[] = [];
      try {
        const store = await sqliteStore(join(dir, 'chat.db'), options);
        served.push(store);
        const { createApp } = await import('../../src/server/app.js');
        const { startNodeServer } = await import('../../src/server/node.js');
        const server = await startNodeServer(createApp(store), { port: 0, host: '127.0.0.1' });
        const client = await httpClient(server.url, options);
        return {
          store: client,
          async cleanup() {
            try {
              await client.close();
              // Every call of the test has finished: its idle keep-alive connections can go now.
              server.forceClose();
              await server.shutdown();
              await store.close();
            } finally {
              await remove();
            }
          },
        };
      } catch (error) {
        await Promise.all(served.map((store) => store.close()));
        await remove();
        throw error;
      }
    },
  };
}

/**
 * The HTTP client against chatstore's Worker in workerd (Miniflare): the API served by the Worker
 * entry over the Durable Objects, fresh storage per store, the test's store options sent along
 * as data (`described` functions). No `processes`: a child process cannot reach this Worker.
 */
function workerEntry(name: string): BackendEntry {
  return {
    name,
    compaction: 'unsupported',
    namesIds: true,
    async open(options) {
      const { startWorker, WORKER_API_KEY } = await import('../fixtures/cloudflare/miniflare.js');
      // Three directory shards: listings, search and stats are merged from several.
      const worker = await startWorker(options, { shards: 3 });
      const client = await httpClient(worker.url, options, WORKER_API_KEY);
      return {
        store: client,
        async cleanup() {
          try {
            await client.close();
          } finally {
            await worker.dispose();
          }
        },
      };
    },
  };
}

/** Every backend the suite knows, whatever `CHATSTORE_BACKENDS` says (child processes look names up here). */
export const ALL_BACKENDS: readonly BackendEntry[] = [
  {
    name: 'memory',
    compaction: 'not-needed',
    async open(options) {
      const { memoryBackend } = await import('../../src/backends/memory/index.js');
      return opened(new ChatStore(memoryBackend(), options));
    },
  },
  sqliteEntry('sqlite'),
  // chatstore/client over HTTP to the Node server, which serves a store on a SQLite file
  clientEntry('client→node/sqlite'),
  // chatstore/client over HTTP to the Worker in workerd: Durable Objects, a conversation each plus the directory
  workerEntry('client→worker/durable-objects'),
  // the in-process tier over sqlite (small: reads hit and miss, tails are evicted)
  sqliteEntry('sqlite+l1', { tail: { maxActiveConversations: 3, maxMessagesPerConversation: 5 } }),
  // the archive tier over sqlite, the in-process tier in front of it (archiving itself: archive.test.ts)
  sqliteEntry('sqlite+archive+l1', {
    archive: true,
    tail: { maxActiveConversations: 3, maxMessagesPerConversation: 5 },
  }),
  // redis (REDIS_URL, DB 12) and redis-cluster (a real cluster on 7000–7005, started on first use).
  ...REDIS_BACKENDS,
  // mysql: MariaDB or MySQL at MYSQL_URL, a throwaway database chatstore_test_<random> per store.
  ...MYSQL_BACKENDS,
  // postgres and postgres-partitioned (POSTGRES_URL): a schema of their own per store, dropped after.
  ...POSTGRES_BACKENDS,
];

/** The names in `CHATSTORE_BACKENDS` (comma-separated), or every backend when it is unset or empty. */
export function selectBackends(selection: string | undefined, known: readonly BackendEntry[]): BackendEntry[] {
  const names = (selection ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) return [...known];
  return [...new Set(names)].map((name) => {
    const entry = known.find((candidate) => candidate.name === name);
    if (entry === undefined) {
      throw new Error(
        `CHATSTORE_BACKENDS names unknown backend "${name}" (known: ${known.map((b) => b.name).join(', ')})`,
      );
    }
    return entry;
  });
}

/** The backends this run tests. */
export const backends: BackendEntry[] = selectBackends(process.env.CHATSTORE_BACKENDS, ALL_BACKENDS);

/** The backends of this run that several processes can share. */
export const sharedBackends: (BackendEntry & { processes: BackendProcesses })[] = backends.filter(
  (entry): entry is BackendEntry & { processes: BackendProcesses } => entry.processes !== undefined,
);
