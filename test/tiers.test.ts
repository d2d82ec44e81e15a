/**
 * What only the in-process tier (L1, `tailCache`) promises besides the conformance suite (which runs
 * whole on sqlite+l1 and postgres+l1): reads answered from tails are the engine's answers, its own
 * writes are seen at once, other instances' writes are seen at once over SQLite and once announced
 * over PostgreSQL, nothing is served while the change feed is down, and the options are checked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { RangeQuery, TierStats } from '../src/backend.js';
import { memoryBackend } from '../src/backends/memory/index.js';
import { pgChangeFeed } from '../src/backends/postgres/change-feed.js';
import { changeChannel } from '../src/backends/postgres/schema.js';
import { redisTailStore } from '../src/backends/redis/tail-store.js';
import { sqliteBackend } from '../src/backends/sqlite/index.js';
import { tailCache } from '../src/backends/tiers/tail-cache.js';
import { withTierEnvironment } from '../src/cli/environment.js';
import { ChatStoreError } from '../src/errors.js';
import type { Message } from '../src/model.js';
import { openBackend } from '../src/open.js';
import { ChatStore } from '../src/store.js';
import { dropSchema, storeUrl, testSchemaName, withAdmin } from './fixtures/pg-conformance.js';
import { CONFORMANCE_BASE_PORT, ensureCluster } from './fixtures/redis-cluster.js';
import { deleteKeys, redisTestUrl, TEST_KEY_ROOT } from './fixtures/redis-conformance.js';
import { dropSharedTails, SHARED_TAILS_DB } from './fixtures/shared-tails.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The tests' clock: a second further at each step, the same for every store. */
let clock = Date.UTC(2026, 0, 1);

/** The shared clock and ids counted from 1, so that two stores given the same calls store the same. */
function deterministic(prefix = 'm'): { now: () => Date; newId: () => string } {
  let id = 0;
  return {
    now: () => new Date(clock),
    newId: () => {
      id += 1;
      return `${prefix}${String(id).padStart(6, '0')}`;
    },
  };
}

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatstore-tiers-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'chat.db');
}

let stores = 0;
async function tiered(
  backend: Promise<import('../src/backend.js').Backend>,
  options = {},
): Promise<{ store: ChatStore; tier: { tailCacheStats(): TierStats } }> {
  const tier = await tailCache(await backend, options);
  // Each store its own ids; the random-walk test compares a bare store given the same ones.
  const store = new ChatStore(tier, deterministic(stores++ === 0 ? 'm' : `s${stores}-`));
  cleanups.push(() => store.close());
  return { store, tier: { tailCacheStats: () => store.tierStats()[0] as TierStats } };
}

const contents = (messages: Message[]): string[] => messages.map((m) => m.content);

describe('tailCache', () => {
  test('every read answers what the engine answers, through appends, edits, statuses and deletes', async () => {
    const bare = new ChatStore(memoryBackend(), deterministic());
    const { store, tier } = await tiered(Promise.resolve(memoryBackend()), {
      maxActiveConversations: 2,
      maxMessagesPerConversation: 4,
    });
    cleanups.push(() => bare.close());
    // mulberry32: the low bits of a plain LCG cycle too soon to pick among 4 conversations.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    };
    const ids: string[] = [];
    for (let step = 0; step < 600; step++) {
      clock += 1000;
      const conversation = `c${random(4)}`;
      const op = random(10);
      const both = async <T>(call: (s: ChatStore) => Promise<T>): Promise<T> => {
        const expected = await call(bare);
        expect(await call(store)).toStrictEqual(expected);
        return expected;
      };
      if (op < 4) {
        const appended = await both((s) => s.append(conversation, { role: 'user', content: `m${step}` }));
        ids.push(...appended.map((r) => r.message.id));
      } else if (op === 4 && ids.length > 0) {
        const id = ids[random(ids.length)] as string;
        await both((s) => s.edit(id, { content: `edited ${step}` }).catch((e: ChatStoreError) => e.code));
      } else if (op === 5 && ids.length > 0) {
        const id = ids[random(ids.length)] as string;
        const hard = random(2) === 0;
        await both((s) => s.delete(id, { hard }));
      } else if (op === 6 && ids.length > 0) {
        const id = ids[random(ids.length)] as string;
        await both((s) => s.updateStatus(id, 'delivered').catch((e: ChatStoreError) => e.code));
      } else {
        const n = 1 + random(6);
        await both((s) => s.recent(conversation, n));
        const includeDeleted = random(2) === 0;
        await both((s) => s.list(conversation, { limit: n, includeDeleted }));
        const around = ids[random(Math.max(ids.length, 1))];
        if (around !== undefined) {
          await both((s) =>
            s.around(conversation, around, { before: 2, after: 2 }).catch((e: ChatStoreError) => e.code),
          );
        }
        await both((s) => s.context(conversation, { maxMessages: n }));
      }
    }
    const stats = tier.tailCacheStats();
    expect(stats.hits).toBeGreaterThan(100);
    expect(stats.misses).toBeGreaterThan(10);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.conversations).toBeLessThanOrEqual(2);
  });

  test.each(['sqlite', 'postgres'])(
    'concurrent writers and readers in one process on %s: no read shows a hole, and the tails end as the engine',
    async (engine) => {
      let store: ChatStore;
      let bare: ChatStore;
      if (engine === 'sqlite') {
        const path = sqliteFile();
        store = (await tiered(sqliteBackend({ path }), { maxActiveConversations: 4, maxMessagesPerConversation: 8 }))
          .store;
        bare = new ChatStore(await sqliteBackend({ path }));
      } else {
        const schema = testSchemaName();
        cleanups.push(() => dropSchema(schema));
        store = new ChatStore(
          await openBackend(storeUrl(schema, { maxActiveConversations: '4', maxMessagesPerConversation: '8' })),
        );
        cleanups.push(() => store.close());
        bare = new ChatStore(await openBackend(storeUrl(schema)));
      }
      cleanups.push(() => bare.close());
      const conversations = ['a', 'b', 'c'];
      const holes: string[] = [];
      const writers = conversations.flatMap((id) =>
        [0, 1, 2, 3].map(async (writer) => {
          for (let i = 0; i < 25; i++) await store.append(id, { role: 'user', content: `${writer}.${i}` });
        }),
      );
      let writing = true;
      const readers = conversations.map(async (id) => {
        while (writing) {
          const seqs = (await store.recent(id, 5)).map((m) => m.seq);
          for (let i = 1; i < seqs.length; i++) {
            if (seqs[i] !== (seqs[i - 1] as number) + 1) holes.push(`${id}: ${seqs.join(',')}`);
          }
          await sleep(0);
        }
      });
      await Promise.all(writers);
      writing = false;
      await Promise.all(readers);
      expect(holes).toEqual([]);
      for (const id of conversations) {
        expect(await store.recent(id, 8)).toStrictEqual(await bare.recent(id, 8));
        expect((await store.recent(id, 8)).map((m) => m.seq)).toEqual([93, 94, 95, 96, 97, 98, 99, 100]);
      }
    },
  );

  test('an append acknowledged before an earlier one drops the tail instead of leaving a hole in it', async () => {
    const engine = memoryBackend();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The engine stores each append at once; the reply of the one with content 'slow' comes late.
    const delaying = {
      ...engine,
      async append(request: Parameters<typeof engine.append>[0]) {
        const results = await engine.append(request);
        if (request.messages[0]?.content === 'slow') await held;
        return results;
      },
    };
    const { store } = await tiered(Promise.resolve(delaying), { singleWriter: true });
    await store.append('c', { role: 'user', content: 'one' });
    expect(contents(await store.recent('c'))).toEqual(['one']);
    const slow = store.append('c', { role: 'user', content: 'slow' });
    await store.append('c', { role: 'user', content: 'fast' });
    expect(contents(await store.recent('c'))).toEqual(['one', 'slow', 'fast']);
    release();
    await slow;
    expect(contents(await store.recent('c'))).toEqual(['one', 'slow', 'fast']);
  });

  test('after a fill, recent() is answered from the tail and an append extends it', async () => {
    const { store, tier } = await tiered(Promise.resolve(memoryBackend()));
    await store.append(
      'c',
      [1, 2, 3].map((i) => ({ role: 'user' as const, content: `m${i}` })),
    );
    expect(contents(await store.recent('c', 2))).toEqual(['m2', 'm3']);
    await store.append('c', { role: 'assistant', content: 'm4' });
    expect(contents(await store.recent('c', 2))).toEqual(['m3', 'm4']);
    expect(tier.tailCacheStats()).toMatchObject({ fills: 1, hits: 1, misses: 1, conversations: 1, messages: 4 });
  });

  test('warm-up: the tails of the most recently active conversations are read when the tier opens', async () => {
    const path = sqliteFile();
    const writer = new ChatStore(await sqliteBackend({ path }), deterministic('w'));
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) {
      clock += 1000;
      await writer.append(id, { role: 'user', content: id });
    }
    await writer.close();
    const backend = await openBackend(`sqlite://${path}?maxActiveConversations=10&warmConversations=3`);
    const store = new ChatStore(backend);
    cleanups.push(() => store.close());
    expect(store.tierStats()[0]).toMatchObject({ fills: 3, conversations: 3 });
    for (const id of ['c3', 'c4', 'c5']) expect(contents(await store.recent(id))).toEqual([id]);
    expect(store.tierStats()[0]).toMatchObject({ fills: 3, hits: 3, misses: 0 });
    expect(contents(await store.recent('c1'))).toEqual(['c1']);
    expect(store.tierStats()[0]).toMatchObject({ fills: 4, misses: 1 });
    await expect(openBackend(`sqlite://${path}?warmConversations=3`)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      path: 'maxActiveConversations',
    });
  });

  test('a returned message is a copy: changing it changes nothing cached', async () => {
    const { store } = await tiered(Promise.resolve(memoryBackend()));
    await store.append('c', { role: 'user', content: 'kept', metadata: { a: 1 } });
    const [first] = await store.recent('c', 1);
    (first as Message).content = 'changed';
    ((first as Message).metadata as { a: number }).a = 2;
    expect(await store.recent('c', 1)).toMatchObject([{ content: 'kept', metadata: { a: 1 } }]);
  });

  test('over SQLite, another instance’s append, edit and delete are seen by the next read', async () => {
    const path = sqliteFile();
    const a = await tiered(sqliteBackend({ path }));
    const b = await tiered(sqliteBackend({ path }));
    const [first] = await a.store.append('c', { role: 'user', content: 'one' });
    expect(contents(await a.store.recent('c'))).toEqual(['one']);
    await b.store.append('c', { role: 'user', content: 'two' });
    expect(contents(await a.store.recent('c'))).toEqual(['one', 'two']);
    await b.store.edit(first?.message.id as string, { content: 'one, edited' });
    expect(contents(await a.store.recent('c'))).toEqual(['one, edited', 'two']);
    await b.store.delete(first?.message.id as string);
    expect(contents(await a.store.recent('c'))).toEqual(['two']);
    expect(a.tier.tailCacheStats().coherence).toBe('data-version');
  });

  test('over SQLite, a tail read while another connection committed is not kept', async () => {
    const path = sqliteFile();
    const other = new ChatStore(await sqliteBackend({ path }));
    cleanups.push(() => other.close());
    const engine = await sqliteBackend({ path });
    let interleave = false;
    // The other connection commits right after this one read the tail, before the tier keeps it.
    const racing = {
      ...engine,
      async range(id: string, query: RangeQuery) {
        const rows = await engine.range(id, query);
        if (interleave) {
          interleave = false;
          await other.append('c', { role: 'user', content: 'two' });
        }
        return rows;
      },
    };
    const { store } = await tiered(Promise.resolve(racing));
    await store.append('c', { role: 'user', content: 'one' });
    interleave = true;
    expect(contents(await store.recent('c'))).toEqual(['one']);
    expect(contents(await store.recent('c'))).toEqual(['one', 'two']);
  });

  test('an engine that cannot tell of other writers needs singleWriter', async () => {
    const redis = await openBackend('redis://127.0.0.1:6379/13?keyPrefix=chatstore-tiers-test:');
    cleanups.push(() => redis.close());
    const refused = await tailCache(redis).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ChatStoreError);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', path: 'singleWriter' });
    const trusted = await tailCache(redis, { singleWriter: true });
    expect(trusted.tiers?.()).toMatchObject([{ tier: 'l1', coherence: 'single-writer' }]);
  });

  test('store URLs turn the tier on and check its parameters', async () => {
    const path = sqliteFile();
    const backend = await openBackend(`sqlite://${path}?maxActiveConversations=10&maxMessagesPerConversation=20`);
    cleanups.push(() => backend.close());
    expect(backend.name).toBe('sqlite+l1');
    expect(backend.tiers?.()).toMatchObject([
      {
        maxActiveConversations: 10,
        maxMessagesPerConversation: 20,
      },
    ]);
    for (const [query, path] of [
      ['maxActiveConversations=0', 'maxActiveConversations'],
      ['maxActiveConversations=ten', 'maxActiveConversations'],
      ['maxMessagesPerConversation=5', 'maxActiveConversations'],
      ['maxActiveConversations=5&singleWriter=yes', 'singleWriter'],
    ]) {
      await expect(openBackend(`sqlite://${sqliteFile()}?${query}`)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        path,
      });
    }
  });
});

describe('chatstore serve: the old system’s environment variables', () => {
  test('MAX_ACTIVE_CONVERSATIONS and MAX_MESSAGES_PER_CUSTOMER become URL parameters; the URL wins', () => {
    const env = { MAX_ACTIVE_CONVERSATIONS: '1000', MAX_MESSAGES_PER_CUSTOMER: '50' };
    expect(withTierEnvironment('sqlite://./chat.db', env)).toBe(
      'sqlite://./chat.db?maxActiveConversations=1000&maxMessagesPerConversation=50',
    );
    expect(withTierEnvironment('postgres://db/chat?schema=bot&maxActiveConversations=10', env)).toBe(
      'postgres://db/chat?schema=bot&maxActiveConversations=10&maxMessagesPerConversation=50',
    );
    expect(withTierEnvironment('sqlite://./chat.db', {})).toBe('sqlite://./chat.db');
    expect(withTierEnvironment('mysql://db/chat', { CHATSTORE_CACHE_URL: 'redis://cache:6379/0' })).toBe(
      'mysql://db/chat?cacheUrl=redis%3A%2F%2Fcache%3A6379%2F0',
    );
  });
});

describe.each(['none', 'monthly'])('tailCache over postgres, partitioning %s', (partitioning) => {
  async function pair(): Promise<[ChatStore, ChatStore, { tailCacheStats(): TierStats }, string]> {
    const schema = testSchemaName();
    cleanups.push(() => dropSchema(schema));
    const url = storeUrl(schema, { partitioning, maxActiveConversations: '100' });
    const a = new ChatStore(await openBackend(url));
    cleanups.push(() => a.close());
    const b = new ChatStore(await openBackend(url));
    cleanups.push(() => b.close());
    return [a, b, { tailCacheStats: () => a.tierStats()[0] as TierStats }, schema];
  }

  /** Reads until `done` holds; resolves to the ms it took. Fails after 5 s. */
  async function until(read: () => Promise<Message[]>, done: (messages: Message[]) => boolean): Promise<number> {
    const started = performance.now();
    for (;;) {
      if (done(await read())) return performance.now() - started;
      if (performance.now() - started > 5_000) throw new Error('not seen within 5 s');
      await sleep(1);
    }
  }

  test('another instance’s append, status and delete reach the tail once announced', async () => {
    const [a, b, tier] = await pair();
    const [first] = await a.append('c', { role: 'assistant', content: 'one', status: 'sent' });
    expect(contents(await a.recent('c'))).toEqual(['one']);
    await b.append('c', { role: 'user', content: 'two' });
    await until(
      () => a.recent('c'),
      (m) => m.length === 2,
    );
    await b.updateStatus(first?.message.id as string, 'read');
    await until(
      () => a.recent('c'),
      (m) => m[0]?.status === 'read',
    );
    await b.delete(first?.message.id as string);
    await until(
      () => a.recent('c'),
      (m) => m.length === 1,
    );
    expect(tier.tailCacheStats()).toMatchObject({ coherence: 'change-feed', serving: true });
    expect(tier.tailCacheStats().invalidations).toBeGreaterThanOrEqual(3);
  });

  test('a schema no cache reads announces nothing; the first change feed turns announcing on for good', async () => {
    const schema = testSchemaName();
    cleanups.push(() => dropSchema(schema));
    const enabled = () =>
      withAdmin(async (client) =>
        (
          await client.query(
            `SELECT t.tgenabled AS e FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND t.tgname LIKE 'messages_announce_%' ORDER BY t.tgname`,
            [schema],
          )
        ).rows.map((row) => row.e),
      );
    const bare = await openBackend(storeUrl(schema, { partitioning }));
    await bare.close();
    expect(await enabled()).toEqual(['D', 'D', 'D']);
    const tiered = await openBackend(storeUrl(schema, { partitioning, maxActiveConversations: '10' }));
    await tiered.close();
    expect(await enabled()).toEqual(['O', 'O', 'O']);
  });

  test('retention in one instance reaches the other’s tails, dropped partitions included', async () => {
    const [a, b] = await pair();
    await a.append('c', [
      { role: 'user', content: 'old', createdAt: '2025-01-10T00:00:00Z' },
      { role: 'user', content: 'new', createdAt: '2025-06-10T00:00:00Z' },
    ]);
    expect(contents(await a.recent('c'))).toEqual(['old', 'new']);
    const report = await b.applyRetention({ before: '2025-03-01T00:00:00Z' });
    expect(report.messagesDeleted).toBe(1);
    expect(report.partitionsDropped.length).toBe(partitioning === 'monthly' ? 1 : 0);
    await until(
      () => a.recent('c'),
      (m) => m.length === 1,
    );
    expect(contents(await b.recent('c'))).toEqual(['new']);
  });

  test('its own writes do not come back to drop the tail they extended', async () => {
    const [a, , tier] = await pair();
    await a.append('c', { role: 'user', content: 'one' });
    expect(contents(await a.recent('c'))).toEqual(['one']);
    await a.append('c', { role: 'assistant', content: 'two' });
    // Time for an announcement of its own to arrive, were it not skipped.
    await sleep(100);
    expect(contents(await a.recent('c'))).toEqual(['one', 'two']);
    expect(tier.tailCacheStats()).toMatchObject({ fills: 1, hits: 1, misses: 1, invalidations: 0 });
  });

  test('a change another tool makes in SQL is announced by the schema itself', async () => {
    const [a, , , schema] = await pair();
    await a.append('c', { role: 'user', content: 'one' });
    expect(contents(await a.recent('c'))).toEqual(['one']);
    await withAdmin((client) => client.query(`UPDATE "${schema}".messages SET content = 'one, by hand'`));
    await until(
      () => a.recent('c'),
      (m) => m[0]?.content === 'one, by hand',
    );
  });

  test('while the feed is down nothing is served from tails; back up, every tail was dropped', async () => {
    const [a, b, tier, schema] = await pair();
    await a.append('c', { role: 'user', content: 'one' });
    expect(contents(await a.recent('c'))).toEqual(['one']);
    // Cut the listening connection, then write from the other instance while it is down.
    const listening = `LISTEN "${changeChannel(schema)}"`;
    const cut = await withAdmin((client) =>
      client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [listening]),
    );
    expect(cut.rowCount).toBe(2);
    await until(
      async () => [],
      () => !tier.tailCacheStats().serving,
    );
    await b.append('c', { role: 'user', content: 'two' });
    expect(contents(await a.recent('c'))).toEqual(['one', 'two']);
    await until(
      async () => [],
      () => tier.tailCacheStats().serving,
    );
    expect(contents(await a.recent('c'))).toEqual(['one', 'two']);
  });
});

describe('sharedTails (L2) over sqlite, on Redis', () => {
  /** A store with the shared tier (no L1) on `path`, its keys under `prefix`. */
  async function sharedStore(
    path: string,
    prefix: string,
    cacheUrl = redisTestUrl(SHARED_TAILS_DB),
  ): Promise<ChatStore> {
    const store = new ChatStore(
      await openBackend(
        `sqlite://${path}?cacheUrl=${encodeURIComponent(cacheUrl)}&cachePrefix=${prefix}&maxMessagesPerConversation=5`,
      ),
    );
    cleanups.push(() => store.close());
    return store;
  }
  function prefixOfTest(): string {
    const prefix = `chatstore-test-${randomBytes(6).toString('hex')}:`;
    cleanups.push(() => dropSharedTails(prefix));
    return prefix;
  }

  test('a tail one instance filled is read by another without the engine; a write in either is seen by both', async () => {
    const path = sqliteFile();
    const prefix = prefixOfTest();
    const a = await sharedStore(path, prefix);
    const b = await sharedStore(path, prefix);
    await a.append(
      'c',
      [1, 2, 3].map((i) => ({ role: 'user' as const, content: `m${i}` })),
    );
    expect(contents(await a.recent('c', 2))).toEqual(['m2', 'm3']);
    expect(contents(await b.recent('c', 2))).toEqual(['m2', 'm3']);
    expect(b.tierStats()).toMatchObject([{ tier: 'l2', hits: 1, misses: 0, fills: 0 }]);
    const [reply] = await b.append('c', { role: 'assistant', content: 'm4', status: 'sent' });
    expect(contents(await a.recent('c', 2))).toEqual(['m3', 'm4']);
    await a.updateStatus(reply?.message.id as string, 'read');
    expect((await b.recent('c', 1))[0]).toMatchObject({ content: 'm4', status: 'read' });
    await b.delete(reply?.message.id as string);
    expect(contents(await a.recent('c', 2))).toEqual(['m2', 'm3']);
    expect(a.tierStats()[0]?.hits).toBeGreaterThanOrEqual(2);
  });

  test('a fill that a write overtook is not kept, and a lease its writer never gave back drops the tail', async () => {
    const prefix = prefixOfTest();
    const tails = await redisTailStore({ url: redisTestUrl(SHARED_TAILS_DB), keyPrefix: prefix });
    cleanups.push(() => tails.close());
    const message = (seq: number): Message => ({
      id: `m${seq}`,
      conversationId: 'c',
      seq,
      role: 'user',
      direction: 'incoming',
      content: `m${seq}`,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const newest = { order: 'desc', limit: 20, includeDeleted: true } as const;
    const missed = await tails.read('c', newest);
    expect(missed).toMatchObject({ writing: false });
    // A write starts and ends between the reader's look and its fill: the fill is refused.
    await tails.beginWrite('c', 'w1', 30_000);
    await tails.endWrite('c', 'w1', { kind: 'extend', keep: 5, messages: [message(1)] });
    expect(await tails.fill('c', (missed as { version: string }).version, { floor: -1, messages: [] })).toBe(false);
    // A fresh look, then a fill: kept.
    const again = (await tails.read('c', newest)) as { version: string };
    expect(await tails.fill('c', again.version, { floor: -1, messages: [message(1)] })).toBe(true);
    expect(await tails.read('c', newest)).toStrictEqual({ answer: [message(1)] });
    // A read below what the tail holds is not answered from it: a tail of seqs 2 and 3 only.
    const later = (await tails.read('d', newest)) as { version: string };
    expect(await tails.fill('d', later.version, { floor: 1, messages: [message(2), message(3)] })).toBe(true);
    expect(await tails.read('d', { ...newest, limit: 2 })).toStrictEqual({ answer: [message(3), message(2)] });
    expect(await tails.read('d', newest)).toStrictEqual({ uncovered: true });
    expect(await tails.read('d', { order: 'asc', limit: 5, includeDeleted: false })).toStrictEqual({ uncovered: true });
    expect(await tails.read('d', { order: 'asc', afterSeq: 1, limit: 5, includeDeleted: false })).toStrictEqual({
      answer: [message(2), message(3)],
    });
    // A writer that takes a lease and dies: while the lease runs, the old tail is still served
    // (nothing was acknowledged); once it ran out, the tail is dropped and no fill is refused.
    await tails.beginWrite('c', 'dead', 100);
    expect(await tails.read('c', newest)).toStrictEqual({ answer: [message(1)] });
    await sleep(150);
    expect(await tails.read('c', newest)).toMatchObject({ writing: false });
  });

  test('on a Redis Cluster: every key of a conversation in one slot, and an erasure drops the tails on every master', async () => {
    const { nodes } = await ensureCluster(CONFORMANCE_BASE_PORT);
    const prefix = `${TEST_KEY_ROOT}${randomBytes(6).toString('hex')}:`;
    const location = `redis+cluster://${nodes.join(',')}`;
    cleanups.push(async () => {
      await deleteKeys(location, prefix);
    });
    const path = sqliteFile();
    const ids = Array.from({ length: 12 }, (_, i) => `+1555000${String(i).padStart(4, '0')}`);
    const a = await sharedStore(path, prefix, location);
    const b = await sharedStore(path, prefix, location);
    for (const id of ids) await a.append(id, { role: 'user', content: `hi from ${id}`, senderId: id });
    for (const id of ids) expect(contents(await a.recent(id))).toEqual([`hi from ${id}`]);
    for (const id of ids) expect(contents(await b.recent(id))).toEqual([`hi from ${id}`]);
    expect(b.tierStats()[0]).toMatchObject({ hits: ids.length, misses: 0 });
    await a.eraseSubject(ids[0] as string);
    expect(await b.recent(ids[0] as string)).toEqual([]);
    expect(contents(await b.recent(ids[1] as string))).toEqual([`hi from ${ids[1]}`]);
    expect(b.tierStats()[0]?.misses).toBe(2);
  });

  test('Redis killed under load: no error reaches the caller, nothing stale is read, and the tier serves again', async () => {
    const redis = await startRedis(6391);
    cleanups.push(() => redis.stop());
    const path = sqliteFile();
    const prefix = prefixOfTest();
    const cacheUrl = 'redis://127.0.0.1:6391/0';
    const store = await sharedStore(path, prefix, cacheUrl);
    const bare = new ChatStore(await sqliteBackend({ path }));
    cleanups.push(() => bare.close());
    let appended = 0;
    const turn = async (): Promise<void> => {
      await store.append('c', { role: 'user', content: `m${++appended}` });
      expect(await store.recent('c', 5)).toStrictEqual(await bare.recent('c', 5));
    };
    for (let i = 0; i < 20; i++) await turn();
    expect(store.tierStats()[0]).toMatchObject({ serving: true });
    redis.kill();
    for (let i = 0; i < 20; i++) await turn();
    expect(store.tierStats()[0]).toMatchObject({ serving: false });
    await redis.restart();
    // Back: the conversations written meanwhile are dropped before anything is served again.
    for (let i = 0; i < 200 && store.tierStats()[0]?.serving !== true; i++) {
      await turn();
      await sleep(20);
    }
    const hits = store.tierStats()[0]?.hits ?? 0;
    for (let i = 0; i < 20; i++) await turn();
    expect(store.tierStats()[0]).toMatchObject({ serving: true });
    expect(store.tierStats()[0]?.hits).toBeGreaterThan(hits);
    expect(store.tierStats()[0]?.failures).toBeGreaterThan(0);
  });
});

/** A redis-server of the test's own on `port` (no persistence), killed and started again by pid. */
async function startRedis(port: number): Promise<{ kill(): void; restart(): Promise<void>; stop(): Promise<void> }> {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const probe = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await sleep(50);
      }
    }
    throw new Error(`redis-server on ${port} did not start`);
  };
  const kill = (): void => {
    child?.kill('SIGKILL');
    child = undefined;
  };
  await start();
  return {
    kill,
    restart: start,
    async stop() {
      const running = child;
      kill();
      if (running !== undefined && running.exitCode === null)
        await new Promise((resolve) => running.once('exit', resolve));
    },
  };
}

describe('the postgres change feed', () => {
  test('closed while it connects again, it gives the connection it was taking back to the pool', async () => {
    // A pool whose clients answer LISTEN only when the test lets them.
    const clients: (EventEmitter & { released: boolean; listen: () => void })[] = [];
    const pool = {
      async connect() {
        let answer: () => void = () => undefined;
        const listening = new Promise<void>((resolve) => {
          answer = resolve;
        });
        const client = Object.assign(new EventEmitter(), {
          released: false,
          listen: answer,
          async query(text: string) {
            if (text.startsWith('LISTEN')) await listening;
            return { rows: [], rowCount: 0 };
          },
          release() {
            client.released = true;
          },
        });
        clients.push(client);
        return client;
      },
      query: async () => ({ rows: [], rowCount: 0 }),
    };
    const ctx = {
      pool,
      layout: { schema: 'feed_test', partitioning: 'none', textSearchConfig: 'simple', partitionManager: 'none' },
      origin: { id: 'me', announced: false },
      lifecycle: { closed: false },
      ensureOpen: () => undefined,
      query: pool.query,
    } as unknown as Parameters<typeof pgChangeFeed>[0];
    const feed = pgChangeFeed(ctx);
    const subscribed = feed.subscribe(() => undefined);
    await vi.waitFor(() => expect(clients).toHaveLength(1));
    clients[0]?.listen();
    await subscribed;
    expect(feed.live).toBe(true);
    // The connection breaks; the feed takes another client and waits on its LISTEN.
    clients[0]?.emit('error', new Error('terminated'));
    expect(feed.live).toBe(false);
    await vi.waitFor(() => expect(clients).toHaveLength(2), { timeout: 2000 });
    await feed.close();
    clients[1]?.listen();
    await vi.waitFor(() => expect(clients[1]?.released).toBe(true));
    expect(feed.live).toBe(false);
  });
});
