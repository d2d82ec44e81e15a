/**
 * What only the sqlite backend promises: its pragmas, its schema versioning, group commit, several
 * OS processes on one file, driver failures as UNAVAILABLE, index-only reads and a full-text index
 * kept in step with deletes. The API in general is the conformance suite's job.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type SqliteOptions, sqliteBackend, sqliteUrlOptions } from '../src/backends/sqlite/index.js';
import { ErasedText, hasResidue } from '../src/backends/sqlite/residue.js';
import { messageParams } from '../src/backends/sqlite/rows.js';
import { SQLITE_MIGRATIONS } from '../src/backends/sqlite/schema.js';
import { conversationListSql, SQLITE_SQL } from '../src/backends/sqlite/statements.js';
import { ChatStoreError, type ErrorCode } from '../src/errors.js';
import type { Message, NewMessage } from '../src/model.js';
import { ChatStore, type ChatStoreOptions } from '../src/store.js';

// Every connection better-sqlite3 opens in this file, the backend's included: `synchronous` and
// `busy_timeout` belong to a connection, so only the backend's own connection can show them.
const connections = vi.hoisted((): Database.Database[] => []);
vi.mock('better-sqlite3', async (importOriginal) => {
  const driver = await importOriginal<{ default: typeof Database }>();
  const recording = new Proxy(driver.default, {
    construct(target, args) {
      const db = Reflect.construct(target, args) as Database.Database;
      connections.push(db);
      return db;
    },
  });
  return { ...driver, default: recording };
});

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const T0 = '2026-01-02T03:04:05.678Z';
const atT0: ChatStoreOptions = { now: () => new Date(T0) };

let dir: string;
let stores: ChatStore[];
let rawConnections: Database.Database[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatstore-sqlite-'));
  stores = [];
  rawConnections = [];
  connections.length = 0;
});

afterEach(async () => {
  for (const store of stores) await store.close();
  for (const db of rawConnections) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const dbFile = (name = 'chat.db'): string => join(dir, name);

async function openStore(options: Partial<SqliteOptions> = {}, storeOptions?: ChatStoreOptions): Promise<ChatStore> {
  const store = new ChatStore(await sqliteBackend({ path: dbFile(), ...options }), storeOptions);
  stores.push(store);
  return store;
}

/** A connection of the test's own to the file, closed after the test. */
function rawConnection(path = dbFile()): Database.Database {
  const db = new Database(path);
  rawConnections.push(db);
  return db;
}

/** The connection the backend opened on `path`. */
function backendConnection(path: string): Database.Database {
  const db = connections.find((candidate) => candidate.name === path);
  if (db === undefined) throw new Error(`no connection was opened on ${path}`);
  return db;
}

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<ChatStoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ChatStoreError);
  expect((error as ChatStoreError).code, (error as Error).message).toBe(code);
  return error as ChatStoreError;
}

/** How many messages the search index has still to add: edits queued and appends above the mark. */
const UNINDEXED = `SELECT (SELECT count(*) FROM search_pending)
  + (SELECT count(*) FROM messages WHERE pk > (SELECT through FROM search_indexed)) AS n`;

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('sqlite pragmas', () => {
  test.each([
    { durability: undefined, synchronous: 2 },
    { durability: 'full' as const, synchronous: 2 },
    { durability: 'normal' as const, synchronous: 1 },
  ])('durability $durability sets synchronous=$synchronous (2 FULL, 1 NORMAL)', async ({ durability, synchronous }) => {
    const path = dbFile(`${durability ?? 'default'}.db`);
    await openStore({ path, ...(durability === undefined ? {} : { durability }) });
    expect(backendConnection(path).pragma('synchronous', { simple: true })).toBe(synchronous);
  });

  test('busy_timeout is 10 s by default and busyTimeoutMs otherwise', async () => {
    await openStore({ path: dbFile('default.db') });
    await openStore({ path: dbFile('short.db'), busyTimeoutMs: 250 });
    expect(backendConnection(dbFile('default.db')).pragma('busy_timeout', { simple: true })).toBe(10_000);
    expect(backendConnection(dbFile('short.db')).pragma('busy_timeout', { simple: true })).toBe(250);
  });

  test('the file is in WAL mode, as any other connection sees it', async () => {
    await openStore();
    expect(rawConnection().pragma('journal_mode', { simple: true })).toBe('wal');
  });

  test('missing parent directories are created, and :memory: needs no file', async () => {
    const nested = await openStore({ path: join(dir, 'a', 'b', 'chat.db') });
    await nested.append('c1', { role: 'user', content: 'hi' });
    expect(await nested.recent('c1')).toHaveLength(1);

    const inMemory = await openStore({ path: ':memory:' });
    await inMemory.append('c1', { role: 'user', content: 'hi' });
    expect((await inMemory.recent('c1')).map((m) => m.content)).toEqual(['hi']);
  });

  test('storageBytes is the file with its WAL and shared memory; in memory the engine cannot tell', async () => {
    const path = dbFile('sized.db');
    const store = await openStore({ path });
    await store.append('c1', { role: 'user', content: 'x'.repeat(10_000) });
    const onDisk = [path, `${path}-wal`, `${path}-shm`]
      .map((file) => (existsSync(file) ? statSync(file).size : 0))
      .reduce((sum, size) => sum + size, 0);
    expect(await store.storageBytes()).toBe(onDisk);
    expect(onDisk).toBeGreaterThan(10_000);

    const inMemory = await openStore({ path: ':memory:' });
    expect(await inMemory.storageBytes()).toBeUndefined();
  });
});

describe('sqlite store URLs', () => {
  test('the location is the path (empty: in memory); durability and busyTimeoutMs come from the query', () => {
    expect(sqliteUrlOptions('./data/chat.db', new URLSearchParams('durability=normal&busyTimeoutMs=250'))).toEqual({
      path: './data/chat.db',
      durability: 'normal',
      busyTimeoutMs: 250,
    });
    expect(sqliteUrlOptions('/var/lib/chat.db', new URLSearchParams())).toEqual({
      path: '/var/lib/chat.db',
      durability: 'full',
    });
    expect(sqliteUrlOptions('', new URLSearchParams('busyTimeoutMs=0'))).toEqual({
      path: ':memory:',
      durability: 'full',
      busyTimeoutMs: 0,
    });
  });

  test.each([
    ['durability=fast', "sqlite durability must be 'full' or 'normal'"],
    ['busyTimeoutMs=-1', 'busyTimeoutMs must be a non-negative integer'],
    ['busyTimeoutMs=1.5', 'busyTimeoutMs must be a non-negative integer'],
    ['busyTimeoutMs=soon', 'busyTimeoutMs must be a non-negative integer'],
  ])('%s is INVALID_ARGUMENT at the url', (query, message) => {
    let error: unknown;
    try {
      sqliteUrlOptions('./chat.db', new URLSearchParams(query));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ChatStoreError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message, path: 'url' });
  });
});

describe('sqlite schema', () => {
  test('records its version and keeps everything across a reopen', async () => {
    const first = new ChatStore(await sqliteBackend({ path: dbFile() }), atT0);
    const appended = await first.append(
      'c1',
      [
        { role: 'user', content: 'café?', senderId: 'u1', externalId: 'wamid.1', metadata: { plan: 'pro' } },
        { role: 'assistant', content: '', media: [{ url: 'https://x/y.jpg', type: 'image' }], status: 'sent' },
      ],
      { conversation: { type: 'group', title: 'Ops' } },
    );
    const conversation = await first.getConversation('c1');
    await first.close();

    expect(rawConnection().prepare('SELECT version FROM chatstore_schema').all()).toEqual([
      { version: SQLITE_MIGRATIONS.length },
    ]);

    const second = await openStore({}, atT0);
    expect(await second.recent('c1')).toStrictEqual(appended.map((result) => result.message));
    expect(await second.getConversation('c1')).toStrictEqual(conversation);
    expect((await second.search('cafe')).hits.map((hit) => hit.message.id)).toEqual([appended[0]?.message.id]);
    const [next] = await second.append('c1', { role: 'user', content: 'again' });
    expect(next?.message.seq).toBe(3);
    expect(rawConnection().prepare('SELECT version FROM chatstore_schema').all()).toEqual([
      { version: SQLITE_MIGRATIONS.length },
    ]);
  });

  test('a file of schema version 2 keeps its pending messages, and its appends stop writing a queue row, when it is opened', async () => {
    const path = dbFile();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(SQLITE_MIGRATIONS[0] as string);
    old.exec(SQLITE_MIGRATIONS[1] as string);
    old.exec('CREATE TABLE chatstore_schema (version INTEGER NOT NULL); INSERT INTO chatstore_schema VALUES (2)');
    old.function('chatstore_search_terms', (content: unknown) => String(content).toLowerCase());
    const message = (seq: number, content: string): Message =>
      ({
        id: `zqxv2-${seq}`,
        conversationId: 'c0',
        seq,
        role: 'user',
        direction: 'incoming',
        content,
        createdAt: T0,
      }) as Message;
    // Messages as release 2 left them: one indexed, one indexed and then edited (queued again), one pending.
    old.prepare(SQLITE_SQL.insertMessage).run(messageParams(message(1, 'zqxindexed')));
    old.prepare(SQLITE_SQL.insertMessage).run(messageParams(message(2, 'zqxbefore')));
    old.prepare(SQLITE_SQL.indexPending).run(Number.MAX_SAFE_INTEGER);
    old.prepare(SQLITE_SQL.clearPending).run(Number.MAX_SAFE_INTEGER);
    old.prepare(SQLITE_SQL.updateMessage).run(messageParams(message(2, 'zqxafter')));
    old.prepare(SQLITE_SQL.insertMessage).run(messageParams(message(3, 'zqxpending')));
    expect(old.prepare('SELECT pk FROM search_pending ORDER BY pk').all()).toEqual([{ pk: 2 }, { pk: 3 }]);
    old.close();

    const store = await openStore({ path });
    const raw = rawConnection(path);
    expect(raw.prepare('SELECT version FROM chatstore_schema').get()).toEqual({ version: SQLITE_MIGRATIONS.length });
    expect(raw.prepare('SELECT through FROM search_indexed').get()).toEqual({ through: 3 });
    const [appended] = await store.append('c1', { role: 'user', content: 'zqxnew' });
    expect(raw.prepare('SELECT pk FROM search_pending ORDER BY pk').all()).toEqual([{ pk: 2 }, { pk: 3 }]);
    const found = async (word: string) => (await store.search(word)).hits.map((hit) => hit.message.id);
    expect(await found('zqxindexed')).toEqual(['zqxv2-1']);
    expect(await found('zqxpending')).toEqual(['zqxv2-3']);
    expect(await found('zqxbefore')).toEqual([]);
    expect(await found('zqxafter')).toEqual(['zqxv2-2']);
    expect(await found('zqxnew')).toEqual([appended?.message.id]);
    expect(raw.prepare(UNINDEXED).get()).toEqual({ n: 0 });
    raw.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
  });

  test('a file written by a newer release is UNSUPPORTED and left as it is', async () => {
    await (await sqliteBackend({ path: dbFile() })).close();
    const raw = rawConnection();
    raw.prepare('UPDATE chatstore_schema SET version = version + 1').run();

    await rejection(sqliteBackend({ path: dbFile() }), 'UNSUPPORTED');
    expect(raw.prepare('SELECT version FROM chatstore_schema').all()).toEqual([
      { version: SQLITE_MIGRATIONS.length + 1 },
    ]);
  });
});

describe('sqlite group commit', () => {
  test('8 appends made at once get seqs 1..8 in call order', async () => {
    const store = await openStore();
    const results = await Promise.all(range(1, 8).map((i) => store.append('c1', { role: 'user', content: `m${i}` })));
    expect(results.map(([result]) => [result?.message.seq, result?.message.content, result?.duplicate])).toEqual(
      range(1, 8).map((i) => [i, `m${i}`, false]),
    );
    expect(await store.recent('c1', 10)).toStrictEqual(results.map(([result]) => result?.message));
  });

  test('a call that fails inside a batch fails alone; later calls see the earlier ones', async () => {
    const store = await openStore();
    await store.append('c1', [
      { role: 'user', content: 'one', id: 'm1' },
      { role: 'user', content: 'two' },
    ]);

    const outcomes = await Promise.allSettled([
      store.append('c1', { role: 'user', content: 'three' }),
      // Stale: the call before it, in the same transaction, moved the conversation to seq 3.
      store.append('c1', { role: 'user', content: 'stale' }, { expectedLastSeq: 2 }),
      store.append('c1', { role: 'user', content: 'four' }, { expectedLastSeq: 3 }),
      // m1 lives in c1: using its id in another conversation is a conflict.
      store.append('c2', [
        { role: 'user', content: 'new' },
        { role: 'user', content: 'clash', id: 'm1' },
      ]),
      store.append('c2', { role: 'user', content: 'fine' }),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'CONFLICT' });
    }
    expect((await store.recent('c1', 10)).map((m) => [m.seq, m.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [4, 'four'],
    ]);
    expect((await store.recent('c2', 10)).map((m) => [m.seq, m.content])).toEqual([[1, 'fine']]);
    expect(await store.getConversation('c2')).toMatchObject({ lastSeq: 1, messageCount: 1 });
  });

  test('close commits the writes already queued; the closed backend is UNAVAILABLE', async () => {
    const backend = await sqliteBackend({ path: dbFile() });
    const store = new ChatStore(backend);
    const pending = store.append('c1', { role: 'user', content: 'last words' });
    await store.close();
    const [result] = await pending;
    expect(result?.message.seq).toBe(1);

    await rejection(backend.getMessage(result?.message.id ?? ''), 'UNAVAILABLE');
    await rejection(backend.conversationIds(undefined, 10), 'UNAVAILABLE');
    const reopened = await openStore();
    expect(await reopened.recent('c1')).toStrictEqual([result?.message]);
  });
});

describe('sqlite with several OS processes', () => {
  // Each round, every process opens a fresh file at the same instant: they race to create it, switch
  // it to WAL and create its schema, while the first appends, reopens and last closes (which
  // checkpoint and remove the WAL) come in between. A path where SQLite answers SQLITE_BUSY without
  // waiting for the busy timeout fails a round. On odd rounds the file's first writer is slow, as on a
  // busy machine: another connection holds its write lock while the processes open it, so such a
  // race happens on every run, not only when the scheduler happens to interleave them that way.
  const ROUNDS = 6;
  const SLOW_CREATOR_MS = 50;
  const WORKERS: { name: string; role: WorkerRole; count: number }[] = [
    ...['a1', 'a2', 'a3', 'a4', 'a5'].map((name) => ({ name, role: 'append' as const, count: 16 })),
    ...['o1', 'o2'].map((name) => ({ name, role: 'reopen' as const, count: 4 })),
    { name: 'r1', role: 'read', count: 16 },
  ];
  const writers = WORKERS.filter((worker) => worker.role !== 'read');
  const total = writers.reduce((sum, worker) => sum + worker.count, 0);

  test(`${WORKERS.length} processes open a fresh file at once, ${ROUNDS} rounds: none UNAVAILABLE, seq 1..${total}, each writer in its order`, async () => {
    const workers = await Promise.all(WORKERS.map(({ name, role }) => spawnWorker(name, role)));
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const path = dbFile(`round-${round}.db`);
        // The slow first writer: the file in its first (rollback-journal) transaction, not yet in WAL.
        const creator = round % 2 === 1 ? rawConnection(path) : undefined;
        creator?.exec('BEGIN IMMEDIATE');
        // Every worker starts when the clock reads `at`: they all open the file at the same instant.
        const at = Date.now() + 100;
        const reports = Promise.all(workers.map((worker, index) => worker.round(path, WORKERS[index]?.count ?? 0, at)));
        if (creator !== undefined) {
          await sleep(at + SLOW_CREATOR_MS - Date.now());
          creator.exec('COMMIT');
          creator.close();
        }
        const failures = (await reports).flatMap((report, index) =>
          report.error === undefined ? [] : [{ round, worker: WORKERS[index]?.name, ...report.error }],
        );
        expect(failures).toEqual([]);

        const store = await openStore({ path });
        const stored = (await store.list('shared', { limit: 1000 })).messages;
        expect(stored.map((m) => m.seq)).toEqual(range(1, total));
        for (const [index, { name, role, count }] of WORKERS.entries()) {
          const report = (await reports)[index];
          if (role === 'read') {
            // A reader never sees the conversation go back.
            expect(report?.seen).toEqual([...(report?.seen ?? [])].sort((a, b) => a - b));
            continue;
          }
          const mine = stored.filter((m) => m.senderId === name);
          expect(mine.map((m) => m.content)).toEqual(range(0, count - 1).map((i) => `${name} ${i}`));
          expect(mine.map((m) => m.seq)).toEqual(report?.seqs);
        }
        expect(await store.getConversation('shared')).toMatchObject({ lastSeq: total, messageCount: total });
        await store.close();
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  });

  // The same race made certain, in one process: SQLite answers the switch to WAL with SQLITE_BUSY at
  // once, without its busy handler, while another connection writes the file in rollback mode.
  test('opening a fresh file another connection is still creating waits for it, then opens it in WAL', async () => {
    const path = dbFile();
    const creator = rawConnection(path);
    creator.exec('BEGIN IMMEDIATE');
    const opening = sqliteBackend({ path, busyTimeoutMs: 5_000 });
    // Settled below; a rejection before then is this test's failure, not an unhandled one.
    opening.catch(() => undefined);
    await sleep(200);
    creator.exec('CREATE TABLE other_app (x INTEGER)');
    creator.exec('COMMIT');
    const store = new ChatStore(await opening);
    stores.push(store);
    await store.append('c1', { role: 'user', content: 'hello' });
    expect(rawConnection(path).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(creator.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 1 });
  });

  test('a fresh file locked past busyTimeoutMs is UNAVAILABLE, and not before the timeout ran out', async () => {
    const path = dbFile();
    const creator = rawConnection(path);
    creator.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    const error = await rejection(sqliteBackend({ path, busyTimeoutMs: 300 }), 'UNAVAILABLE');
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(error.cause).toMatchObject({ code: 'SQLITE_BUSY' });
    creator.exec('ROLLBACK');
  });
});

describe('sqlite failures', () => {
  test('a directory as the database path is UNAVAILABLE, with the driver error as cause', async () => {
    const error = await rejection(sqliteBackend({ path: dir }), 'UNAVAILABLE');
    expect(error.cause).toMatchObject({ code: 'SQLITE_CANTOPEN' });
  });

  test('a path under a regular file is UNAVAILABLE', async () => {
    writeFileSync(join(dir, 'plain'), 'not a directory');
    const error = await rejection(sqliteBackend({ path: join(dir, 'plain', 'chat.db') }), 'UNAVAILABLE');
    expect(error.cause).toBeInstanceOf(Error);
  });

  test('a write lock held past busyTimeoutMs is UNAVAILABLE; reads go on, and writes resume after', async () => {
    const store = await openStore({ busyTimeoutMs: 100 });
    await store.append('c1', { role: 'user', content: 'before' });
    const other = rawConnection();
    other.exec('BEGIN IMMEDIATE');

    const error = await rejection(store.append('c1', { role: 'user', content: 'blocked' }), 'UNAVAILABLE');
    expect(error.cause).toMatchObject({ code: 'SQLITE_BUSY' });
    expect((await store.recent('c1')).map((m) => m.content)).toEqual(['before']);

    other.exec('ROLLBACK');
    const [after] = await store.append('c1', { role: 'user', content: 'after' });
    expect(after?.message.seq).toBe(2);
  });
});

describe('sqlite indexes', () => {
  test('reads are index range scans: O(page), never O(history)', async () => {
    await openStore();
    const raw = rawConnection();
    const plan = (sql: string, params: Record<string, unknown> | unknown[]): string[] =>
      raw
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(params)
        .map((row) => (row as { detail: string }).detail);
    const rangeParams = {
      conversationId: 'c1',
      afterSeq: 10,
      beforeSeq: 100,
      includeDeleted: 0,
      from: null,
      to: null,
      limit: 20,
    };

    expect(plan(SQLITE_SQL.rangeAsc, rangeParams)).toEqual([
      'SEARCH messages USING INDEX messages_by_seq (conversation_id=? AND seq>? AND seq<?)',
    ]);
    expect(plan(SQLITE_SQL.rangeDesc, rangeParams)).toEqual([
      'SEARCH messages USING INDEX messages_by_seq (conversation_id=? AND seq>? AND seq<?)',
    ]);
    expect(plan(SQLITE_SQL.firstMessageByExternalId, ['wamid.1'])).toEqual([
      'SEARCH messages USING INDEX messages_by_external_id (external_id=?)',
    ]);
    const listing = conversationListSql({
      participant: false,
      type: false,
      channel: false,
      after: true,
      includeDeleted: false,
    });
    expect(plan(listing, { afterActivityAt: T0, afterId: 'c9', limit: 20 })).toEqual([
      'SEARCH c USING INDEX conversations_by_activity ((activity_at,id)<(?,?))',
    ]);
  });

  test('appends are indexed for search in the background, without waiting for a search', async () => {
    const store = await openStore();
    await store.append('c1', [
      { role: 'user', content: 'first words' },
      { role: 'user', content: 'second words' },
    ]);
    const raw = rawConnection();
    const pending = () => (raw.prepare(UNINDEXED).get() as { n: number }).n;
    expect(pending()).toBe(2);
    // Appends write no queue row: the indexer finds them above its high-water mark.
    expect(raw.prepare('SELECT count(*) AS n FROM search_pending').get()).toEqual({ n: 0 });
    await vi.waitFor(() => expect(pending()).toBe(0), { timeout: 5_000, interval: 50 });
    expect(raw.prepare('SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?').all('"words"')).toHaveLength(2);
  });

  test('the indexer waits while appends keep coming, and runs at the latest 5 s after the first it has not indexed', async () => {
    // Timers and the clock are fake; the group commit's setImmediate is real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const store = await openStore();
      const raw = rawConnection();
      const pending = () => (raw.prepare(UNINDEXED).get() as { n: number }).n;
      const committed = () => new Promise((resolve) => setImmediate(resolve));
      const appendEvery100ms = async (count: number, from: number): Promise<number[]> => {
        const seen: number[] = [];
        for (let i = 0; i < count; i++) {
          await store.append('c1', { role: 'user', content: `word${from + i}` });
          await vi.advanceTimersByTimeAsync(100);
          await committed();
          seen.push(pending());
        }
        return seen;
      };
      // A burst of 3 s: nothing is indexed while it lasts, everything 200 ms after it.
      expect(await appendEvery100ms(30, 0)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      await vi.advanceTimersByTimeAsync(150);
      await committed();
      expect(pending()).toBe(0);
      // Appends that never pause: indexed 5 s after the first one the indexer had not indexed.
      const stream = await appendEvery100ms(60, 30);
      expect(stream.slice(0, 49)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
      expect(stream[50]).toBeLessThanOrEqual(2);
      expect(await store.search('word75')).toMatchObject({ hits: [{ message: { content: 'word75' } }] });
    } finally {
      vi.useRealTimers();
    }
  });

  test('hard deletes, erasure and edits keep the full-text index in step with the messages', async () => {
    const store = await openStore();
    const [apple, cherry, durian] = await store.append('c1', [
      { role: 'user', content: 'apple banana' },
      { role: 'user', content: 'apple cherry', senderId: 'alice' },
      { role: 'user', content: 'durian' },
    ]);
    const raw = rawConnection();
    // The index alone, without the join to messages that search() does: what is really in it.
    // Appends leave their rows pending; any search first indexes every pending row.
    const indexed = async (word: string): Promise<number> => {
      await store.search('anything');
      return raw.prepare('SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?').all(`"${word}"`).length;
    };
    const pending = (): unknown => raw.prepare(UNINDEXED).get();
    const consistent = (): void => {
      raw.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
    };
    expect(await Promise.all([indexed('apple'), indexed('banana'), indexed('durian')])).toEqual([2, 1, 1]);

    await store.delete(apple?.message.id ?? '', { hard: true });
    expect(await Promise.all([indexed('apple'), indexed('banana')])).toEqual([1, 0]);
    consistent();

    await store.eraseSubject('alice');
    expect(await Promise.all([indexed('apple'), indexed('cherry')])).toEqual([0, 0]);
    expect(await store.get(cherry?.message.id ?? '')).toBeUndefined();
    consistent();

    await store.edit(durian?.message.id ?? '', { content: 'elderberry' });
    expect(await Promise.all([indexed('durian'), indexed('elderberry')])).toEqual([0, 1]);
    consistent();

    await store.deleteConversation('c1', { hard: true });
    expect(await indexed('elderberry')).toBe(0);
    consistent();
    expect(raw.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 0 });
    expect(pending()).toEqual({ n: 0 });
  });

  test('a message that gets the pk of a hard-deleted newest one, and one edited before it was indexed, are found', async () => {
    const store = await openStore();
    const [, second] = await store.append('c1', [
      { role: 'user', content: 'zqxfirst' },
      { role: 'user', content: 'zqxsecond' },
    ]);
    expect((await store.search('zqxsecond')).hits).toHaveLength(1);
    const raw = rawConnection();
    expect(raw.prepare('SELECT through FROM search_indexed').get()).toEqual({ through: 2 });
    await store.delete(second?.message.id ?? '', { hard: true });
    expect(raw.prepare('SELECT through FROM search_indexed').get()).toEqual({ through: 1 });

    const [third] = await store.append('c1', { role: 'user', content: 'zqxthird' });
    // SQLite gave it the pk of the deleted message, which the index had seen.
    expect(raw.prepare('SELECT pk FROM messages WHERE id = ?').get(third?.message.id)).toEqual({ pk: 2 });
    const [fourth] = await store.append('c1', { role: 'user', content: 'zqxfourth' });
    await store.edit(fourth?.message.id ?? '', { content: 'zqxfifth' });
    // A message deleted before it was indexed leaves the mark where it was.
    const [sixth] = await store.append('c1', { role: 'user', content: 'zqxsixth' });
    await store.delete(sixth?.message.id ?? '', { hard: true });
    expect(raw.prepare('SELECT through FROM search_indexed').get()).toEqual({ through: 1 });
    const found = async (word: string) => (await store.search(word)).hits.map((hit) => hit.message.id);
    expect(await found('zqxthird')).toEqual([third?.message.id]);
    expect(await found('zqxsecond')).toEqual([]);
    expect(await found('zqxfourth')).toEqual([]);
    expect(await found('zqxfifth')).toEqual([fourth?.message.id]);
    expect(await found('zqxsixth')).toEqual([]);
    raw.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
    expect(raw.prepare('SELECT count(*) AS n FROM messages_fts').get()).toEqual({ n: 3 });
    expect(raw.prepare(UNINDEXED).get()).toEqual({ n: 0 });
  });
});

type WorkerRole = 'append' | 'reopen' | 'read';

/** What a worker reports of one round (see test/fixtures/sqlite-append-worker.ts). */
interface WorkerReport {
  /** The seqs a writer was given, in its order. */
  seqs?: number[];
  /** A reader: the conversation's lastSeq at each read. */
  seen?: number[];
  /** The step that failed, the error's code, the driver's extended result code and chatstore's line. */
  error?: { phase: string; code?: string; cause?: string; message: string; where?: string };
}

/** A test/fixtures/sqlite-append-worker.ts process, loaded and waiting for a round. */
interface Worker {
  /** Starts a round on `path` when the clock reads `at` (epoch ms); settles with the worker's report of it. */
  round(path: string, count: number, at: number): Promise<WorkerReport>;
  /** Ends the worker and waits for it to exit. */
  stop(): Promise<void>;
}

function spawnWorker(name: string, role: WorkerRole): Promise<Worker> {
  return new Promise((resolveReady, rejectReady) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/sqlite-append-worker.ts', name, role], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let ready = false;
    const waiting: { resolve: (report: WorkerReport) => void; reject: (error: Error) => void }[] = [];
    const exited = new Promise<void>((resolve) => {
      child.on('close', (code) => {
        const failure = new Error(`worker ${name} exited with ${code}: ${stderr}`);
        if (!ready) rejectReady(failure);
        for (const round of waiting.splice(0)) round.reject(failure);
        resolve();
      });
    });
    child.on('error', rejectReady);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (ready) {
        waiting.shift()?.resolve(JSON.parse(line) as WorkerReport);
      } else if (line === 'ready') {
        ready = true;
        resolveReady({
          round: (path, count, at) =>
            new Promise((resolve, reject) => {
              waiting.push({ resolve, reject });
              child.stdin.write(`${JSON.stringify({ path, count, at })}\n`);
            }),
          stop: () => {
            child.stdin.end();
            return exited;
          },
        });
      }
    });
  });
}

describe('sqlite erasure leaves none of the erased bytes on disk', () => {
  // An outside tester found that after an erasure or a hard delete, search no longer found the words
  // but their bytes were still on disk: in FTS5 leaf blobs, in freed pages and in the WAL. These tests
  // build an index of several segments, erase one of three targets, and then read the raw bytes of
  // every file of the database (the file, its -wal, -shm and anything else named after it): none may
  // hold any string of the erased target, while every string of the two others is still there (so
  // the scan is known to find what is on disk) and the survivors are still read and searched.
  const SUBJECT = 'zqxsubj-15550001';
  const ROOM = 'zqxroom-gone';
  const MEMBERS = ['zqxroom-member-1', 'zqxroom-member-2'];
  const ROUNDS = 6;
  const FILLER_PER_ROUND = 500;
  const WORDS = Array.from({ length: 1500 }, (_, i) => `k${String(i).padStart(4, '0')}`);

  /** What one target left in the store: every string that must vanish when it is erased. */
  interface Target {
    words: string[];
    strings: string[];
    messageIds: string[];
  }

  /** Deterministic pseudo-random numbers: every run builds the same index. */
  const random = (seed: number): (() => number) => {
    let state = seed;
    return () => {
      state = (state * 48_271) % 2_147_483_647;
      return state / 2_147_483_647;
    };
  };

  /** The files of the database at `path`: the file, -wal, -shm and any other file named after it. */
  const databaseFiles = (path: string): string[] =>
    readdirSync(dirname(path))
      .filter((file) => file.startsWith(basename(path)))
      .map((file) => join(dirname(path), file));

  /**
   * Per file of the database, the runs of letters, digits and hyphens in its raw bytes that contain
   * `zqx` or look like a message id: every string these tests look for is such a run or a part of
   * one, so searching them finds exactly what a search of the whole file for its UTF-8 bytes would
   * find, thousands of times faster.
   */
  const diskText = (path: string): { name: string; text: string }[] =>
    databaseFiles(path).map((file) => ({
      name: basename(file),
      text: readFileSync(file)
        .toString('latin1')
        .split(/[^A-Za-z0-9-]+/)
        .filter((run) => run.includes('zqx') || /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/.test(run))
        .join('\n'),
    }));

  const searchable = (text: string): string => {
    if (
      !/^[A-Za-z0-9-]+$/.test(text) ||
      !(text.includes('zqx') || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/.test(text))
    ) {
      throw new Error(`the disk scan cannot look for ${text}`);
    }
    return text;
  };

  /** `file: string` for each string found, as UTF-8 bytes, in a file of the database. */
  const foundOnDisk = (path: string, strings: string[]): string[] => {
    const files = diskText(path);
    return strings.flatMap((text) =>
      files.filter((file) => file.text.includes(searchable(text))).map((file) => `${file.name}: ${text}`),
    );
  };

  /** The strings found in no file of the database. */
  const missingOnDisk = (path: string, strings: string[]): string[] => {
    const files = diskText(path);
    return strings.filter((text) => !files.some((file) => file.text.includes(searchable(text))));
  };

  /** The first term of every FTS5 leaf page (a leaf's rowid has no height or doclist-index bits). */
  const leafFirstTerms = (path: string): string[] => {
    const db = new Database(path, { readonly: true });
    try {
      const blocks = db.prepare('SELECT id, block FROM messages_fts_data WHERE id >= ?').all(2 ** 37) as {
        id: number;
        block: Buffer;
      }[];
      const varint = (bytes: Buffer, at: number): [number, number] => {
        let value = 0;
        let offset = at;
        for (;;) {
          const byte = bytes[offset++] as number;
          value = value * 128 + (byte & 0x7f);
          if (byte < 0x80) return [value, offset];
        }
      };
      return blocks.flatMap(({ id, block }) => {
        if (Math.floor(id / 2 ** 31) % 64 !== 0) return [];
        const footer = block.readUInt16BE(2);
        if (block.length <= footer) return [];
        const [first] = varint(block, footer);
        const [length, start] = varint(block, first);
        // The key is the index byte ('0', the main index) followed by the term.
        return [block.subarray(start + 1, start + length).toString('utf8')];
      });
    } finally {
      db.close();
    }
  };

  /** A message of filler words, with `extra` words among them. */
  const text = (next: () => number, extra: string[] = []): string => {
    const words = Array.from({ length: 12 }, () => WORDS[Math.floor(next() * WORDS.length)] as string);
    return [...words.slice(0, 6), ...extra, ...words.slice(6)].join(' ');
  };

  /**
   * Six rounds of 500 filler messages in eight rooms, each round indexed for search before the next
   * (one FTS5 segment each), with three targets among them: a subject who sends and receives
   * messages in the rooms and has a conversation named after them, a conversation of its own, and one
   * message with a word beside each word of the vocabulary (so some are the first term of a leaf).
   * Then status reports on a tenth of the messages, which rewrite their rows.
   */
  async function seed(store: ChatStore) {
    const next = random(42);
    const subject: Target = {
      words: ['zqxsubjalpha', 'zqxsubjbeta'],
      strings: [SUBJECT, 'zqxsubjtitle'],
      messageIds: [],
    };
    const room: Target = {
      words: ['zqxroomalpha', 'zqxroombeta'],
      strings: [ROOM, ...MEMBERS, 'zqxroomtitle', 'zqxroom-topic'],
      messageIds: [],
    };
    const one: Target = {
      words: ['zqxonealpha', 'zqxonebeta'],
      strings: ['zqxone-ext', 'zqxone-meta'],
      messageIds: [],
    };
    const kept: string[] = [];
    const statusReports: string[] = [];
    let counter = 0;

    /** A message of `target` (its words, a unique external id and metadata value), noted in it. */
    const targetMessage = (target: Target, tag: string, message: NewMessage): NewMessage => {
      counter++;
      // Words of its own spread over the whole vocabulary: some land first on an index leaf.
      const unique = range(1, 20).map((i) => `${WORDS[Math.floor(next() * WORDS.length)]}zqx${tag}${counter}x${i}`);
      target.words.push(...unique);
      target.strings.push(`zqx${tag}-ext-${counter}`, `zqx${tag}-meta-${counter}`);
      return {
        ...message,
        content: text(next, [`zqx${tag}alpha`, ...unique, `zqx${tag}beta`]),
        externalId: `zqx${tag}-ext-${counter}`,
        metadata: { ticket: `zqx${tag}-meta-${counter}` },
      };
    };

    for (let round = 0; round < ROUNDS; round++) {
      const rooms = new Map<string, NewMessage[]>();
      const add = (conversationId: string, message: NewMessage): void => {
        const list = rooms.get(conversationId) ?? [];
        list.push(message);
        rooms.set(conversationId, list);
      };
      for (let i = 0; i < FILLER_PER_ROUND; i++) {
        const user = `user-${1 + Math.floor(next() * 40)}`;
        const keep = i % 50 === 0;
        add(
          `room-${1 + (i % 8)}`,
          i % 3 === 2
            ? { role: 'assistant', senderId: 'bot', recipientId: user, content: text(next, keep ? ['zqxkeep'] : []) }
            : { role: 'user', senderId: user, recipientId: 'bot', content: text(next, keep ? ['zqxkeep'] : []) },
        );
        if (keep) kept.push(`room-${1 + (i % 8)}`);
        if (i % 33 === 0) {
          add(
            `room-${1 + (i % 8)}`,
            targetMessage(subject, 'subj', { role: 'user', senderId: SUBJECT, recipientId: 'bot' }),
          );
          add(
            `room-${1 + ((i + 3) % 8)}`,
            targetMessage(subject, 'subj', { role: 'assistant', senderId: 'bot', recipientId: SUBJECT }),
          );
        }
        if (i % 71 === 0)
          add(SUBJECT, targetMessage(subject, 'subj', { role: 'user', senderId: SUBJECT, recipientId: 'bot' }));
        if (i % 41 === 0) {
          const member = MEMBERS[i % 2] as string;
          add(ROOM, targetMessage(room, 'room', { role: 'user', senderId: member, recipientId: 'bot' }));
        }
      }
      if (round === 2) {
        const spread = WORDS.map((word) => `${word}zqxone`);
        one.words.push(...spread);
        add('room-3', {
          role: 'user',
          senderId: 'user-7',
          recipientId: 'bot',
          content: text(next, ['zqxonealpha', ...spread, 'zqxonebeta']),
          externalId: 'zqxone-ext',
          metadata: { ticket: 'zqxone-meta' },
        });
      }
      for (const [conversationId, messages] of rooms) {
        const conversation =
          conversationId === SUBJECT
            ? { title: 'zqxsubjtitle' }
            : conversationId === ROOM
              ? { type: 'group', title: 'zqxroomtitle', metadata: { topic: 'zqxroom-topic' } }
              : undefined;
        for (let start = 0; start < messages.length; start += 200) {
          const results = await store.append(conversationId, messages.slice(start, start + 200), {
            ...(conversation === undefined ? {} : { conversation }),
          });
          for (const { message } of results) {
            const content = message.content;
            const target = content.includes('zqxsubj')
              ? subject
              : content.includes('zqxroom')
                ? room
                : content.includes('zqxone')
                  ? one
                  : undefined;
            target?.messageIds.push(message.id);
            if (target !== undefined || message.seq % 10 === 0) statusReports.push(message.id);
          }
        }
      }
      // A search first indexes every pending message: one FTS5 segment per round.
      expect((await store.search('zqxkeep')).hits.length).toBeGreaterThan(0);
    }
    // Status reports rewrite the rows (longer bodies): pages split and cells move.
    for (let start = 0; start < statusReports.length; start += 100) {
      await Promise.all(statusReports.slice(start, start + 100).map((id) => store.updateStatus(id, 'delivered')));
    }
    for (const target of [subject, room, one]) target.strings.push(...target.words, ...target.messageIds);
    return { subject, room, one, kept: kept.length };
  }

  /** What every test checks before it erases: the index holds the words, some as a leaf's first term. */
  async function beforeErasure(path: string, target: Target): Promise<void> {
    expect(missingOnDisk(path, target.strings)).toEqual([]);
    const firstTerms = new Set(leafFirstTerms(path));
    expect(target.words.filter((word) => firstTerms.has(word)).length).toBeGreaterThan(0);
  }

  /** What every test checks after: nothing of `erased` on disk, the others still stored and searchable. */
  async function afterErasure(
    store: ChatStore,
    path: string,
    erased: Target,
    others: Target[],
    kept: number,
  ): Promise<void> {
    expect(foundOnDisk(path, erased.strings)).toEqual([]);
    for (const other of others) expect(missingOnDisk(path, other.strings)).toEqual([]);
    for (const word of erased.words.slice(0, 5)) expect((await store.search(word)).hits).toEqual([]);
    for (const id of erased.messageIds.slice(0, 5)) expect(await store.get(id)).toBeUndefined();
    expect((await store.search('zqxkeep', { limit: 1000 })).hits).toHaveLength(kept);
    for (const other of others) {
      const [alpha] = other.words;
      expect((await store.search(alpha as string, { limit: 1000 })).hits).toHaveLength(other.messageIds.length);
      for (const id of other.messageIds) expect((await store.get(id))?.id).toBe(id);
    }
  }

  test('eraseSubject: none of the subject, their messages and their conversation is left in the file, WAL or shm', async () => {
    const path = dbFile();
    const store = await openStore({ path });
    const { subject, room, one, kept } = await seed(store);
    await beforeErasure(path, subject);

    const receipt = await store.eraseSubject(SUBJECT);
    expect(receipt.messagesDeleted).toBe(subject.messageIds.length);
    expect(receipt.conversationsDeleted).toEqual([SUBJECT]);

    await afterErasure(store, path, subject, [room, one], kept);
    expect(await store.listConversations({ participantId: SUBJECT })).toMatchObject({ conversations: [] });
  });

  test('delete(id, { hard: true }): none of the message is left in the file, WAL or shm', async () => {
    const path = dbFile();
    const store = await openStore({ path });
    const { subject, room, one, kept } = await seed(store);
    await beforeErasure(path, one);

    expect(await store.delete(one.messageIds[0] as string, { hard: true })).toBe(true);

    await afterErasure(store, path, one, [subject, room], kept);
  });

  test('deleteConversation(id, { hard: true }): none of the conversation is left in the file, WAL or shm', async () => {
    const path = dbFile();
    const store = await openStore({ path });
    const { subject, room, one, kept } = await seed(store);
    await beforeErasure(path, room);

    expect(await store.deleteConversation(ROOM, { hard: true })).toBe(true);

    await afterErasure(store, path, room, [subject, one], kept);
    expect(await store.getConversation(ROOM)).toBeUndefined();
  });

  test('a reader of an older snapshot: the erasure waits for it, and past busyTimeoutMs fails UNAVAILABLE until called again', async () => {
    const path = dbFile();
    const store = await openStore({ path, busyTimeoutMs: 300 });
    const words = ['zqxwaitalpha', 'zqxwaitbeta'];
    const [kept] = await store.append('c1', { role: 'user', senderId: 'zqxkept-1', content: 'zqxkeepword hello' });
    const erased = await store.append(
      'c1',
      range(1, 20).map((i) => ({
        role: 'user' as const,
        senderId: 'zqxwait-subject',
        content: `${words.join(' ')} ${i}`,
      })),
    );
    expect((await store.search('zqxwaitalpha')).hits).toHaveLength(20);
    const strings = ['zqxwait-subject', ...words, ...erased.map(({ message }) => message.id)];
    const reader = rawConnection(path);
    const holdSnapshot = (): void => {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM messages').get();
    };

    // A reader done within the busy timeout: the erasure waits for it, then empties the WAL.
    holdSnapshot();
    const waited = store.eraseSubject('zqxwait-subject');
    await sleep(100);
    reader.exec('COMMIT');
    expect((await waited).messagesDeleted).toBe(20);
    expect(foundOnDisk(path, strings)).toEqual([]);

    // A reader that stays: the delete commits, but the WAL keeps the old pages, which that reader
    // may still read, and the call says so.
    const more = await store.append(
      'c2',
      range(1, 5).map(() => ({ role: 'user' as const, senderId: 'zqxstay-subject', content: 'zqxstayalpha' })),
    );
    expect((await store.search('zqxstayalpha')).hits).toHaveLength(5);
    holdSnapshot();
    const error = await rejection(store.eraseSubject('zqxstay-subject'), 'UNAVAILABLE');
    expect(error.message).toMatch(/another connection kept reading an older snapshot/);
    expect(await store.get(more[0]?.message.id as string)).toBeUndefined();
    expect(reader.prepare("SELECT count(*) AS n FROM messages WHERE sender_id = 'zqxstay-subject'").get()).toEqual({
      n: 5,
    });
    expect(foundOnDisk(path, ['zqxstayalpha'])).not.toEqual([]);

    reader.exec('COMMIT');
    expect((await store.eraseSubject('zqxstay-subject')).messagesDeleted).toBe(0);
    expect(foundOnDisk(path, ['zqxstay-subject', 'zqxstayalpha', ...more.map(({ message }) => message.id)])).toEqual(
      [],
    );
    expect((await store.search('zqxkeepword')).hits.map((hit) => hit.message.id)).toEqual([kept?.message.id]);
  });

  test('a file of schema version 1 gets a search index that erases, and its free pages zeroed, when it is opened', async () => {
    const path = dbFile();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.pragma('secure_delete = OFF');
    old.exec(SQLITE_MIGRATIONS[0] as string);
    old.exec('CREATE TABLE chatstore_schema (version INTEGER NOT NULL); INSERT INTO chatstore_schema VALUES (1)');
    // A message as release 1 stored and indexed it.
    old.function('chatstore_search_terms', (content: unknown) => String(content).toLowerCase());
    const message = {
      id: 'zqxold-message-1',
      conversationId: 'c1',
      seq: 1,
      role: 'user',
      direction: 'incoming',
      senderId: 'u1',
      content: 'zqxoldalpha zqxoldbeta',
      createdAt: T0,
    } as Message;
    old.prepare(SQLITE_SQL.insertMessage).run(messageParams(message));
    old.prepare(SQLITE_SQL.indexPending).run(Number.MAX_SAFE_INTEGER);
    old.prepare(SQLITE_SQL.clearPending).run(Number.MAX_SAFE_INTEGER);
    // Pages freed without secure_delete keep what they held.
    old.exec(`CREATE TABLE dropped (t TEXT);
      WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
      INSERT INTO dropped SELECT 'zqxfreed-' || i FROM n;
      DROP TABLE dropped;`);
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    expect(foundOnDisk(path, ['zqxfreed-1000', 'zqxoldalpha'])).toHaveLength(2);

    const store = await openStore({ path });
    const raw = rawConnection(path);
    expect(raw.prepare('SELECT version FROM chatstore_schema').get()).toEqual({ version: SQLITE_MIGRATIONS.length });
    expect(raw.prepare("SELECT v FROM messages_fts_config WHERE k = 'secure-delete'").get()).toEqual({ v: 1 });
    expect((await store.search('zqxoldalpha')).hits.map((hit) => hit.message.id)).toEqual(['zqxold-message-1']);

    expect(await store.delete('zqxold-message-1', { hard: true })).toBe(true);
    expect(
      foundOnDisk(path, [
        'zqxfreed-1',
        'zqxfreed-1000',
        'zqxfreed-2000',
        'zqxoldalpha',
        'zqxoldbeta',
        'zqxold-message-1',
      ]),
    ).toEqual([]);
    expect((await store.search('zqxoldalpha')).hits).toEqual([]);
  });

  test("the residue scan finds a string in a page's unused space, unless live data holds it too", async () => {
    const path = dbFile();
    const db = rawConnection(path);
    db.pragma('journal_mode = WAL');
    // Without secure_delete, a deleted row's bytes stay where it was: in a freeblock of its page.
    db.pragma('secure_delete = OFF');
    db.exec('CREATE TABLE t (pk INTEGER PRIMARY KEY, s TEXT)');
    const insert = db.prepare('INSERT INTO t (s) VALUES (?)');
    for (const i of range(1, 50)) insert.run(`zqxrow-${i} zqxfiller`);
    db.prepare("DELETE FROM t WHERE s LIKE 'zqxrow-25 %'").run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const erased = new ErasedText();
    erased.addText('zqxrow-25 zqxfiller');
    const patterns = erased.patterns(() => false);

    expect(foundOnDisk(path, ['zqxrow-25'])).toEqual(['chat.db: zqxrow-25']);
    expect(await hasResidue(path, patterns)).toBe(true);
    // zqxfiller, a word of the erased row, is in live rows too: that alone is no residue.
    expect(await hasResidue(path, [Buffer.from('zqxfiller')])).toBe(false);
    expect(await hasResidue(path, [Buffer.from('zqxrow-26')])).toBe(false);

    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(foundOnDisk(path, ['zqxrow-25'])).toEqual([]);
    expect(await hasResidue(path, patterns)).toBe(false);
  });
});
