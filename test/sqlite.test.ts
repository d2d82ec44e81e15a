/**
 * What only the sqlite backend promises: its pragmas, its schema versioning, group commit, several
 * OS processes on one file, driver failures as UNAVAILABLE, index-only reads and a full-text index
 * kept in step with deletes. The API in general is the conformance suite's job.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type SqliteOptions, sqliteBackend, sqliteUrlOptions } from '../src/backends/sqlite/index.js';
import { SQLITE_MIGRATIONS } from '../src/backends/sqlite/schema.js';
import { conversationListSql, SQLITE_SQL } from '../src/backends/sqlite/statements.js';
import { ChatStoreError, type ErrorCode } from '../src/errors.js';
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
  test('4 processes x 250 awaited appends into one conversation of a fresh file: seq 1..1,000, each in its order', async () => {
    const path = dbFile();
    const workers = ['w1', 'w2', 'w3', 'w4'];
    const perWorker = 250;
    // Every worker is loaded before any opens the file: they create its schema and append at once.
    const started = await Promise.all(workers.map((worker) => spawnWorker(path, worker, perWorker)));
    for (const worker of started) worker.start();
    const given = await Promise.all(started.map((worker) => worker.done));

    const store = await openStore({ path });
    const stored = (await store.list('shared', { limit: 1000 })).messages;
    expect(stored.map((m) => m.seq)).toEqual(range(1, workers.length * perWorker));
    workers.forEach((worker, index) => {
      const mine = stored.filter((m) => m.senderId === worker);
      expect(mine.map((m) => m.content)).toEqual(range(0, perWorker - 1).map((i) => `${worker} ${i}`));
      expect(mine.map((m) => m.seq)).toEqual(given[index]);
    });
    expect(await store.getConversation('shared')).toMatchObject({ lastSeq: 1000, messageCount: 1000 });
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
    const listing = conversationListSql({ participant: false, type: false, after: true, includeDeleted: false });
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
    const pending = () => (raw.prepare('SELECT count(*) AS n FROM search_pending').get() as { n: number }).n;
    expect(pending()).toBe(2);
    await vi.waitFor(() => expect(pending()).toBe(0), { timeout: 5_000, interval: 50 });
    expect(raw.prepare('SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?').all('"words"')).toHaveLength(2);
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
    const pending = (): unknown => raw.prepare('SELECT count(*) AS n FROM search_pending').get();
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
});

/** A test/fixtures/sqlite-append-worker.ts process, loaded and waiting for `start`. */
interface Worker {
  start(): void;
  /** The seqs the worker was given. */
  done: Promise<number[]>;
}

function spawnWorker(path: string, name: string, count: number): Promise<Worker> {
  return new Promise((resolveReady, rejectReady) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/sqlite-append-worker.ts', path, name, String(count)],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let ready = false;
    const done = new Promise<number[]>((resolve, reject) => {
      child.on('close', (code) => {
        const failure = new Error(`worker ${name} exited with ${code}: ${stderr}`);
        if (!ready) rejectReady(failure);
        const lines = stdout.trim().split('\n');
        if (code === 0) resolve(JSON.parse(lines[lines.length - 1] ?? '') as number[]);
        else reject(failure);
      });
    });
    child.on('error', rejectReady);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!ready && stdout.startsWith('ready\n')) {
        ready = true;
        resolveReady({ start: () => child.stdin.end('start\n'), done });
      }
    });
  });
}
