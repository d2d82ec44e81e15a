/**
 * What only the mysql backend promises: options and URLs, versioned migrations under a lock,
 * driver and connection failures as chatstore errors, utf8mb4 and exact (binary, NO PAD) ids,
 * FULLTEXT that matches the store's word rule (short words, stopwords, any script, long words),
 * MariaDB's JSON_MERGE_PATCH worked around, times independent of the session time zone, and reads
 * that are range scans of the clustered key. The API in general is the conformance suite's job.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, test } from 'vitest';
import { toChatStoreError } from '../src/backends/mysql/errors.js';
import {
  type MysqlBackend,
  type MysqlOptions,
  type MysqlPool,
  mergePatches,
  mysqlBackend,
  mysqlMigrations,
  mysqlUrlOptions,
} from '../src/backends/mysql/index.js';
import { MYSQL_MIGRATIONS } from '../src/backends/mysql/schema.js';
import { booleanQuery, searchDocument, searchToken } from '../src/backends/mysql/search.js';
import { ChatStoreError, type ErrorCode } from '../src/errors.js';
import { applyMergePatch } from '../src/merge-patch.js';
import type { JsonObject, Message } from '../src/model.js';
import { openBackend } from '../src/open.js';
import { ChatStore } from '../src/store.js';
import { dropDatabase, MYSQL_URL, storeUrl, testDatabaseName, withAdmin } from './fixtures/mysql-conformance.js';
import { erasedPerson, FILLER, filesContaining, fillWithPerson, type ScannedFile } from './fixtures/on-disk.js';

const T0 = '2026-01-02T03:04:05.678Z';
const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

let databases: string[] = [];
let closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.reverse()) await close();
  for (const database of databases) await dropDatabase(database);
  databases = [];
  closers = [];
});

/** A fresh database name of this test, dropped afterwards. */
function databaseOfTest(): string {
  const database = testDatabaseName();
  databases.push(database);
  return database;
}

async function openMysql(options: Partial<MysqlOptions> = {}): Promise<MysqlBackend> {
  const backend = await mysqlBackend({
    ...(options.pool === undefined ? { url: MYSQL_URL } : {}),
    database: options.database ?? databaseOfTest(),
    ...options,
  });
  closers.push(() => backend.close());
  return backend;
}

async function openStoreOn(options: Partial<MysqlOptions> = {}): Promise<ChatStore> {
  return new ChatStore(await openMysql(options), { now: () => new Date(T0) });
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

const tables = (database: string): Promise<string[]> =>
  withAdmin(async (connection) => {
    const [rows] = await connection.execute(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
      [database],
    );
    return (rows as { name: string }[]).map((row) => row.name);
  });

describe('mysql options and URLs', () => {
  test('bad options are INVALID_ARGUMENT with the path of the option', async () => {
    const cases: [MysqlOptions, string][] = [
      [{}, 'url'],
      [{ url: 'postgres://x@y/z' }, 'url'],
      [{ url: 'mysql://[bad' }, 'url'],
      [{ url: MYSQL_URL, database: 'no-dashes' }, 'database'],
      [{ url: MYSQL_URL, database: 'x'.repeat(65) }, 'database'],
      [{ url: MYSQL_URL, poolSize: 0 }, 'poolSize'],
      [{ url: `${MYSQL_URL}?poolSize=many` }, 'poolSize'],
    ];
    for (const [options, path] of cases) {
      const error = await rejection(mysqlBackend(options), 'INVALID_ARGUMENT');
      expect(error.path, JSON.stringify(options)).toBe(path);
    }
  });

  test('openStore URLs: mysql:// and mariadb://, the database from the path (created when missing)', async () => {
    expect(mysqlUrlOptions('app:p@ss/w:rd@db:3306/chat', new URLSearchParams('poolSize=3&ssl=true'))).toEqual({
      url: 'mysql://app:p%40ss%2Fw%3Ard@db:3306/chat?ssl=true',
      poolSize: 3,
    });
    for (const scheme of ['mysql', 'mariadb']) {
      const database = databaseOfTest();
      const url = storeUrl(database).replace(/^mysql:/, `${scheme}:`);
      const backend = (await openBackend(`${url}?poolSize=2`)) as MysqlBackend;
      closers.push(() => backend.close());
      expect(backend.name).toBe('mysql');
      expect(backend.layout.database).toBe(database);
      expect(await tables(database)).toEqual(['chatstore_schema', 'conversations', 'messages', 'participants']);
    }
  });

  test('a pool of your own is used as it is and stays open after close; its database is the default', async () => {
    const database = databaseOfTest();
    await withAdmin((connection) => connection.query(`CREATE DATABASE \`${database}\``));
    const url = new URL(MYSQL_URL);
    const pool = mysql.createPool({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      database,
      connectionLimit: 2,
    });
    try {
      const backend = await mysqlBackend({ pool: pool as unknown as MysqlPool });
      expect(backend.layout.database).toBe(database);
      const store = new ChatStore(backend, { now: () => new Date(T0) });
      await store.append('c1', { role: 'user', content: 'on my pool' });
      await store.close();
      await rejection(backend.getMessage('x'), 'UNAVAILABLE');
      expect((await pool.query('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  test('a pool that does not talk utf8mb4 is INVALID_ARGUMENT: 4-byte characters would be lost', async () => {
    const url = new URL(MYSQL_URL);
    const pool = mysql.createPool({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      charset: 'latin1_swedish_ci',
      connectionLimit: 1,
    });
    try {
      const error = await rejection(
        mysqlBackend({ pool: pool as unknown as MysqlPool, database: databaseOfTest() }),
        'INVALID_ARGUMENT',
      );
      expect(error.path).toBe('pool');
    } finally {
      await pool.end();
    }
  });

  test('an unreachable server is UNAVAILABLE, with the driver error as cause and no password in the message', async () => {
    const error = await rejection(mysqlBackend({ url: 'mysql://app:s3cret@127.0.0.1:1/nowhere' }), 'UNAVAILABLE');
    expect(error.cause).toBeDefined();
    expect(error.message).not.toContain('s3cret');
  });

  test('wrong credentials are UNAVAILABLE, without the password', async () => {
    const url = new URL(MYSQL_URL);
    url.username = 'chatstore_nobody';
    url.password = 'hunter2';
    const error = await rejection(mysqlBackend({ url: url.toString() }), 'UNAVAILABLE');
    expect(error.message).not.toContain('hunter2');
  });

  test('a missing mysql2 driver is MISSING_DRIVER naming what to install', async () => {
    // A child process in which `mysql2` cannot be resolved, as on a machine where it is not installed.
    const script = `
      const { mysqlBackend } = await import('./src/backends/mysql/index.js');
      try { await mysqlBackend({ url: ${JSON.stringify(MYSQL_URL)} }); }
      catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }`;
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--import', './test/fixtures/mysql-no-driver.mjs', '--input-type=module', '-e', script],
      { cwd: repoRoot },
    );
    expect(JSON.parse(stdout)).toEqual({
      code: 'MISSING_DRIVER',
      message: 'the mysql backend needs mysql2: npm install mysql2',
    });
  });

  test('driver and server failures that mean "not now" become UNAVAILABLE; others pass through', () => {
    const unavailable = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }),
      Object.assign(new Error('Too many connections'), { code: 'ER_CON_COUNT_ERROR', errno: 1040 }),
      Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 }),
      Object.assign(new Error('Lock wait timeout exceeded'), { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }),
      Object.assign(new Error('MySQL server has gone away'), { code: 'CR_SERVER_GONE_ERROR' }),
      Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }),
      new Error('Pool is closed.'),
      Object.assign(new Error("Access denied for user 'app' (mysql://app:hunter2@db/x)"), {
        code: 'ER_ACCESS_DENIED_ERROR',
      }),
    ];
    for (const error of unavailable) {
      const mapped = toChatStoreError(error) as ChatStoreError;
      expect(mapped, error.message).toBeInstanceOf(ChatStoreError);
      expect(mapped.code).toBe('UNAVAILABLE');
      expect(mapped.cause).toBe(error);
      expect(mapped.message).not.toContain('hunter2');
    }
    const bug = Object.assign(new Error('You have an error in your SQL syntax'), { code: 'ER_PARSE_ERROR' });
    expect(toChatStoreError(bug)).toBe(bug);
    const duplicate = Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY' });
    expect(toChatStoreError(duplicate)).toBe(duplicate);
    const conflict = new ChatStoreError('CONFLICT', 'x');
    expect(toChatStoreError(conflict)).toBe(conflict);
  });
});

describe('mysql schema versions', () => {
  test('a new database records its version and layout; reopening keeps everything', async () => {
    const database = databaseOfTest();
    const first = await openMysql({ database });
    const store = new ChatStore(first, { now: () => new Date(T0) });
    const [appended] = await store.append('c1', { role: 'user', content: 'kept', externalId: 'e1' });
    await first.close();
    const [state, charset] = await withAdmin(async (connection) => [
      (await connection.query(`SELECT * FROM \`${database}\`.chatstore_schema`))[0],
      (
        await connection.execute(
          'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
          [database],
        )
      )[0],
    ]);
    expect(state).toEqual([
      {
        version: MYSQL_MIGRATIONS.length,
        collation_name: 'utf8mb4_nopad_bin',
        ft_min_token_size: 3,
        ft_max_token_size: 84,
      },
    ]);
    expect(charset).toEqual([{ charset: 'utf8mb4', collation: 'utf8mb4_nopad_bin' }]);
    const again = new ChatStore(await openMysql({ database }));
    expect(await again.get(appended?.message.id as string)).toStrictEqual(appended?.message);
  });

  test('a version 1 database is upgraded in place: conversations get their search totals, which appends, edits and deletes keep', async () => {
    const database = databaseOfTest();
    const store = new ChatStore(await openMysql({ database }), { now: () => new Date(T0) });
    await store.append('c1', [
      { role: 'user', content: 'refund refund please' },
      { role: 'user', content: 'where is my refund' },
    ]);
    await store.append('c2', { role: 'user', content: 'no refund here at all' });
    const scores = async (target: ChatStore) =>
      (await target.search('refund')).hits.map((hit) => [hit.message.id, hit.score]);
    const before = await scores(store);
    const d = `\`${database}\``;
    const countersAndRows = () =>
      withAdmin(async (connection) => [
        (
          await connection.query(
            `SELECT conversation_id, message_count AS messages, search_terms AS terms FROM ${d}.conversations ORDER BY 1`,
          )
        )[0],
        (
          await connection.query(
            `SELECT c.conversation_id, COUNT(m.seq) AS messages, CAST(COALESCE(SUM(m.term_count), 0) AS SIGNED) AS terms
             FROM ${d}.conversations c LEFT JOIN ${d}.messages m ON m.conversation_id = c.conversation_id
             GROUP BY c.conversation_id ORDER BY 1`,
          )
        )[0],
      ]);
    // What version 1 left: no totals, no channel, its append procedure, no update procedure.
    const layout = { database, collation: 'utf8mb4_nopad_bin', tokens: { min: 3, max: 84 } };
    const versionOneAppend = MYSQL_MIGRATIONS[0]?.(layout).find((statement) => statement.includes('chatstore_append('));
    await withAdmin(async (connection) => {
      await connection.query(`DROP PROCEDURE ${d}.chatstore_update_message`);
      await connection.query(`DROP PROCEDURE ${d}.chatstore_append`);
      await connection.query(versionOneAppend as string);
      await connection.query(
        `ALTER TABLE ${d}.conversations DROP KEY conversations_by_channel, DROP COLUMN channel, DROP COLUMN search_terms`,
      );
      await connection.query(`UPDATE ${d}.chatstore_schema SET version = 1`);
    });
    const upgraded = new ChatStore(await openMysql({ database }), { now: () => new Date(T0) });
    expect(await scores(upgraded)).toEqual(before);
    let [counters, rows] = await countersAndRows();
    expect(counters).toEqual(rows);
    expect(counters).toEqual([
      { conversation_id: 'c1', messages: 2, terms: 7 },
      { conversation_id: 'c2', messages: 1, terms: 5 },
    ]);
    const [appended] = await upgraded.append('c1', { role: 'user', content: 'one more refund' });
    const [again] = await upgraded.append('c1', { role: 'user', content: 'a duplicate', externalId: 'x' });
    await upgraded.append('c1', [
      { role: 'user', content: 'a duplicate', externalId: 'x' },
      { role: 'user', content: 'after the duplicate, under the lock' },
    ]);
    await upgraded.edit(appended?.message.id as string, { content: 'one more refund with more words now' });
    await upgraded.updateStatus(again?.message.id as string, 'read');
    await upgraded.delete(again?.message.id as string, { hard: true });
    [counters, rows] = await countersAndRows();
    expect(counters).toEqual(rows);
    expect(counters).toEqual([
      { conversation_id: 'c1', messages: 4, terms: 7 + 7 + 6 },
      { conversation_id: 'c2', messages: 1, terms: 5 },
    ]);
  });

  test('a database written by a newer release is UNSUPPORTED and left as it is', async () => {
    const database = databaseOfTest();
    await (await openMysql({ database })).close();
    await withAdmin((connection) =>
      connection.query(`UPDATE \`${database}\`.chatstore_schema SET version = version + 1`),
    );
    const error = await rejection(openMysql({ database }), 'UNSUPPORTED');
    expect(error.message).toContain('upgrade chatstore');
  });

  test('a database made for other FULLTEXT token sizes is UNSUPPORTED: search would miss words', async () => {
    const database = databaseOfTest();
    await (await openMysql({ database })).close();
    await withAdmin((connection) =>
      connection.query(`UPDATE \`${database}\`.chatstore_schema SET ft_min_token_size = 2`),
    );
    const error = await rejection(openMysql({ database }), 'UNSUPPORTED');
    expect(error.message).toContain('innodb_ft_min_token_size');
  });

  test('8 openers of a fresh database at once create it once', async () => {
    const database = databaseOfTest();
    const backends = await Promise.all(Array.from({ length: 8 }, () => openMysql({ database, poolSize: 1 })));
    expect(backends).toHaveLength(8);
    const versions = await withAdmin(
      async (connection) => (await connection.query(`SELECT version FROM \`${database}\`.chatstore_schema`))[0],
    );
    expect(versions).toEqual([{ version: MYSQL_MIGRATIONS.length }]);
  });

  test('the migration plan: a dry run shows the SQL and creates nothing; then it applies; then nothing is left', async () => {
    const database = databaseOfTest();
    const dry = await mysqlMigrations({ url: MYSQL_URL, database, dryRun: true });
    expect(dry).toMatchObject({ database, from: 0, to: MYSQL_MIGRATIONS.length });
    expect(dry.statements[0]).toBe(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin`);
    expect(dry.statements.some((statement) => statement.includes('FULLTEXT KEY messages_search'))).toBe(true);
    expect(await tables(database)).toEqual([]);
    const applied = await mysqlMigrations({ url: MYSQL_URL, database });
    expect(applied.statements).toEqual(dry.statements);
    expect(await tables(database)).toEqual(['chatstore_schema', 'conversations', 'messages', 'participants']);
    expect((await mysqlMigrations({ url: MYSQL_URL, database, dryRun: true })).statements).toEqual([]);
  });

  test('every index carries a comment naming the query that needs it', () => {
    const layout = { database: 'd', collation: 'utf8mb4_nopad_bin', tokens: { min: 3, max: 84 } };
    const ddl = MYSQL_MIGRATIONS.flatMap((migration) => migration(layout)).join('\n');
    const lines = ddl.split('\n');
    lines.forEach((line, index) => {
      if (/^\s*(PRIMARY KEY|UNIQUE KEY|KEY|FULLTEXT KEY)\b/.test(line)) {
        expect(lines[index - 1], line).toMatch(/^\s*--/);
      }
    });
  });
});

describe('mysql text: utf8mb4 and exact ids', () => {
  test('4-byte characters round-trip in every text and id; ids compare exactly (case, trailing spaces)', async () => {
    const store = await openStoreOn();
    const astral = '𝄞😀👨‍👩‍👧‍👦𠀀';
    const [message] = await store.append(`chat ${astral}`, {
      id: `id ${astral}`,
      externalId: `ext ${astral}`,
      role: 'user',
      senderId: `sender ${astral}`,
      content: `content ${astral}`,
      metadata: { [astral]: astral },
    });
    expect(await store.get(`id ${astral}`)).toStrictEqual(message?.message);
    expect((await store.getConversation(`chat ${astral}`))?.participants.map((p) => p.id)).toEqual([
      `sender ${astral}`,
    ]);
    // A binary NO PAD collation: none of these is a duplicate of another.
    const variants = ['a', 'A', 'a ', 'á'];
    const results = await store.append(
      'ids',
      variants.map((id) => ({ id, externalId: id, role: 'user' as const, content: id })),
    );
    expect(results.map((result) => result.duplicate)).toEqual([false, false, false, false]);
    for (const id of variants) expect((await store.get(id))?.content).toBe(id);
    for (const id of variants) expect((await store.getByExternalId(id, 'ids'))?.content).toBe(id);
    expect(await store.get('a  ')).toBeUndefined();
  });

  test('conversation ids come back in JavaScript string order (export order)', async () => {
    const store = await openStoreOn();
    const ids = ['b', 'B', 'a', '_', 'a b', 'ab', 'Z', '0', '~', 'é'];
    for (const id of ids) await store.append(id, { role: 'user', content: 'x' });
    const exported: string[] = [];
    for await (const message of store.export()) exported.push(message.conversationId);
    expect(exported).toEqual([...ids].sort());
  });

  test('times do not depend on the session time zone', async () => {
    const database = databaseOfTest();
    await (await openMysql({ database })).close();
    const url = new URL(MYSQL_URL);
    const pool = mysql.createPool({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      database,
      charset: 'utf8mb4',
      timezone: '+09:00',
      connectionLimit: 1,
    });
    pool.pool.on('connection', (connection) => connection.query("SET time_zone = '-07:00'"));
    try {
      const zoned = new ChatStore(await mysqlBackend({ pool: pool as unknown as MysqlPool }), {
        now: () => new Date(T0),
      });
      const [appended] = await zoned.append('c1', {
        role: 'user',
        content: 'x',
        createdAt: '2026-06-01T12:00:00.000Z',
      });
      await zoned.delete(appended?.message.id as string);
      const plain = await openStoreOn({ database });
      const stored = (await plain.list('c1', { includeDeleted: true })).messages[0] as Message;
      expect(stored).toMatchObject({ createdAt: '2026-06-01T12:00:00.000Z', deletedAt: T0 });
      expect(await plain.getConversation('c1')).toMatchObject({
        createdAt: T0,
        lastMessageAt: '2026-06-01T12:00:00.000Z',
      });
      expect(
        (await zoned.list('c1', { from: '2026-06-01T12:00:00.000Z', includeDeleted: true })).messages,
      ).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });
});

describe('mysql FULLTEXT search', () => {
  test('every term is one token InnoDB keeps whole: short words, stopwords, other scripts, long words', () => {
    const limits = { min: 3, max: 84 };
    expect(searchToken('a', limits)).toBe('a__');
    expect(searchToken('to', limits)).toBe('to_');
    expect(searchToken('the', limits)).toBe('the_');
    expect(searchToken('привет', limits)).toBe('_d0bfd180d0b8d0b2d0b5d182');
    expect(searchToken('x'.repeat(84), limits)).toMatch(/^_x[0-9a-f]{64}$/);
    expect(searchToken('x'.repeat(84), limits)).not.toBe(searchToken(`${'x'.repeat(83)}y`, limits));
    expect(searchDocument('Hi, Ana! Hi.', limits)).toEqual({ text: 'hi_  ana_  hi_', termCount: 3 });
    expect(booleanQuery(['refund', 'a'], limits)).toBe('+refund_ +a__');
  });

  test('words InnoDB would skip are found: 1-2 letters, stopwords, digits, astral letters, 100-letter words', async () => {
    const store = await openStoreOn();
    const long = `super${'cali'.repeat(24)}`;
    const contents = [
      'I am a bot',
      'the one about www and com',
      'order 7 is at 42nd',
      'Gothic 𐌰𐌱𐌲 and Adlam 𞤀𞤁',
      `a ${long} word`,
      'nothing here',
    ];
    const appended = (
      await store.append(
        'c1',
        contents.map((content) => ({ role: 'user' as const, content })),
      )
    ).map((result) => result.message.id);
    const found = async (query: string) => (await store.search(query)).hits.map((hit) => hit.message.id).sort();
    expect(await found('I')).toEqual([appended[0]]);
    expect(await found('a')).toEqual([appended[0], appended[4]].sort());
    expect(await found('am a')).toEqual([appended[0]]);
    expect(await found('the about')).toEqual([appended[1]]);
    expect(await found('www com')).toEqual([appended[1]]);
    expect(await found('7')).toEqual([appended[2]]);
    expect(await found('42nd')).toEqual([appended[2]]);
    expect(await found('𐌰𐌱𐌲')).toEqual([appended[3]]);
    expect(await found('𞤢𞤣')).toEqual([appended[3]]);
    expect(await found(long.toUpperCase())).toEqual([appended[4]]);
    expect(await found(long.slice(0, -1))).toEqual([]);
    expect(await found('her')).toEqual([]);
  });

  test('a message is found as soon as its append returns, from another connection too', async () => {
    const database = databaseOfTest();
    const writer = await openStoreOn({ database });
    const reader = await openStoreOn({ database });
    for (let i = 0; i < 20; i++) {
      const [result] = await writer.append('c1', { role: 'user', content: `fresh word${i}` });
      expect((await reader.search(`word${i}`)).hits.map((hit) => hit.message.id)).toEqual([result?.message.id]);
    }
  });
});

describe('mysql conversation metadata', () => {
  test("merge patches are applied by the engine one key at a time, around MariaDB's JSON_MERGE_PATCH bug", async () => {
    expect(mergePatches({ b: { f: 2 }, a: null })).toEqual(['{"b":{"f":2}}', '{"a":null}']);
    expect(mergePatches({ x: {}, y: 1, z: { w: { v: null } } })).toEqual([
      '{"x":{}}',
      '{"y":1}',
      '{"z":{"w":{"v":null}}}',
      '{}',
    ]);
    expect(mergePatches({})).toEqual([]);
    const store = await openStoreOn();
    const start: JsonObject = { a: 1, b: { c: 1, d: [1, 2] }, e: 'x', n: { deep: { keep: true, drop: 1 } } };
    await store.createConversation('c1', { metadata: start });
    const patches: JsonObject[] = [
      { b: { f: 2 }, a: null },
      { e: null, n: { deep: { drop: null, added: 0.1 } }, big: 1e21 },
      { b: 'scalar now', fresh: { x: {} } },
      { fresh: { x: { y: null } }, list: [{ k: null }] },
    ];
    let expected = start;
    for (const patch of patches) {
      expected = applyMergePatch(expected, patch);
      expect((await store.updateConversation('c1', { metadata: patch }))?.metadata).toStrictEqual(expected);
    }
  });
});

describe('mysql reads are index range scans', () => {
  test('EXPLAIN: the last page is a range of the clustered key; lookups use their unique keys', async () => {
    const database = databaseOfTest();
    const store = await openStoreOn({ database });
    const [first] = await store.append(
      'c1',
      Array.from({ length: 300 }, (_, i) => ({ role: 'user' as const, content: `m${i}`, externalId: `e${i}` })),
    );
    await store.append('c2', { role: 'user', content: 'other' });
    const explain = (sql: string, values: (string | number)[]) =>
      withAdmin(async (connection) => {
        const [rows] = await connection.execute(`EXPLAIN ${sql}`, values);
        return (rows as { key: string | null; type: string }[]).map((row) => ({ key: row.key, type: row.type }));
      });
    const d = `\`${database}\``;
    // Enough conversations that a listing is planned as it is at scale (a few rows are scanned whole),
    // and plans from fresh statistics, not from whatever InnoDB sampled while the rows arrived.
    await withAdmin(async (connection) => {
      await connection.query(`INSERT INTO ${d}.conversations (conversation_id, type, metadata, created_at, updated_at, activity_at)
        WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 69)
        SELECT CONCAT('bulk-', a.i * 70 + b.i), 'private', '{}', '2026-01-01', '2026-01-01',
          '2026-01-01' - INTERVAL (a.i * 70 + b.i) SECOND
        FROM n a CROSS JOIN n b`);
      await connection.query(`ANALYZE TABLE ${d}.messages, ${d}.conversations`);
    });
    expect(
      await explain(
        `SELECT body FROM ${d}.messages m WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ? AND m.deleted_at IS NULL ORDER BY m.seq DESC LIMIT ?`,
        ['c1', 0, Number.MAX_SAFE_INTEGER, 20],
      ),
    ).toEqual([{ key: 'PRIMARY', type: 'range' }]);
    expect(await explain(`SELECT body FROM ${d}.messages WHERE id = ?`, [first?.message.id as string])).toEqual([
      { key: 'messages_by_id', type: 'const' },
    ]);
    expect(
      await explain(`SELECT body FROM ${d}.messages WHERE external_id = ? AND conversation_id = ?`, ['e1', 'c1']),
    ).toEqual([{ key: 'messages_by_external_id', type: 'const' }]);
    expect(
      (
        await explain(`SELECT body FROM ${d}.messages WHERE external_id = ? ORDER BY conversation_id LIMIT 1`, ['e1'])
      )[0]?.key,
    ).toBe('messages_by_external_id');
    expect(
      (
        await explain(
          `SELECT id FROM ${d}.messages m WHERE MATCH (m.search_text) AGAINST (? IN BOOLEAN MODE) AND m.deleted_at IS NULL`,
          ['+m1_'],
        )
      )[0],
    ).toEqual({ key: 'messages_search', type: 'fulltext' });
    expect(
      (
        await explain(
          `SELECT conversation_id FROM ${d}.conversations c WHERE c.deleted_at IS NULL ORDER BY c.activity_at DESC, c.conversation_id DESC LIMIT ?`,
          [20],
        )
      )[0]?.key,
    ).toBe('conversations_by_activity');
  });
});

/** Every file of a database's directory: its tables' `.ibd` files, FULLTEXT auxiliary tables (`FTS_*`) included. */
const databaseFiles = (database: string): Promise<ScannedFile[]> =>
  withAdmin(async (connection) => {
    const [[row]] = (await connection.query('SELECT @@datadir AS dir')) as unknown as [{ dir: string }[]];
    const directory = `${row?.dir}/${database}`;
    return readdirSync(directory).map((name) => ({ name, path: `${directory}/${name}` }));
  });

/** Writes the tables' dirty pages to their files (`FLUSH TABLES … FOR EXPORT`), so a scan sees what InnoDB holds. */
const flushTables = (database: string): Promise<void> =>
  withAdmin(async (connection) => {
    const names = await tables(database);
    await connection.query(`FLUSH TABLES ${names.map((name) => `\`${database}\`.\`${name}\``).join(', ')} FOR EXPORT`);
    await connection.query('UNLOCK TABLES');
  });

describe('mysql erasure on disk', () => {
  test('eraseSubject with compact: true leaves none of the words or the id in any file of the database', async () => {
    const database = databaseOfTest();
    const store = await openStoreOn({ database });
    const person = erasedPerson();
    const stored = await fillWithPerson(store, person);
    await flushTables(database);
    const before = filesContaining(await databaseFiles(database), person.needles);
    expect(before).toEqual(
      expect.arrayContaining([`messages.ibd: ${person.word}`, `participants.ibd: ${person.subjectId}`]),
    );

    const receipt = await store.eraseSubject(person.subjectId, { compact: true });
    expect(receipt).toMatchObject({
      messagesDeleted: 34,
      conversationsDeleted: [person.subjectId],
      compaction: 'done',
    });
    // When the call resolves, and after InnoDB wrote out whatever it still held in memory.
    expect(filesContaining(await databaseFiles(database), person.needles)).toStrictEqual([]);
    await flushTables(database);
    expect(filesContaining(await databaseFiles(database), person.needles)).toStrictEqual([]);
    expect((await store.stats()).total).toBe(stored - 34);
    expect((await store.search('lorem', { limit: 1 })).hits).toHaveLength(1);
  });

  test('without compact, the words stay in messages.ibd after an erasure; compact() rebuilds them away', async () => {
    const database = databaseOfTest();
    const store = await openStoreOn({ database });
    const person = erasedPerson();
    await fillWithPerson(store, person);
    await flushTables(database);
    // The server's default: purge does not overwrite what it frees.
    const [[scrub]] = (await withAdmin((connection) =>
      connection.query('SELECT @@innodb_immediate_scrub_data_uncompressed AS on_'),
    )) as unknown as [{ on_: number }[]];
    expect(scrub?.on_).toBe(0);

    const receipt = await store.eraseSubject(person.subjectId);
    expect(receipt.compaction).toBeUndefined();
    expect(await store.search(person.word)).toMatchObject({ hits: [] });
    await flushTables(database);
    expect(filesContaining(await databaseFiles(database), person.needles)).toContain(`messages.ibd: ${person.word}`);

    const report = await store.compact();
    expect(report.rewritten).toStrictEqual(
      ['chatstore_schema', 'conversations', 'messages', 'participants'].map((name) => `\`${database}\`.\`${name}\``),
    );
    expect(filesContaining(await databaseFiles(database), person.needles)).toStrictEqual([]);
  });

  test('compacting hard deletes of a message and of a conversation leave none of their text in the files', async () => {
    const database = databaseOfTest();
    const store = await openStoreOn({ database });
    const person = erasedPerson();
    await fillWithPerson(store, person);
    const [target] = (await store.search(person.word, { conversationId: person.subjectId })).hits;
    await flushTables(database);
    expect(filesContaining(await databaseFiles(database), [`my own ${person.word}`])).toStrictEqual([
      `messages.ibd: my own ${person.word}`,
    ]);

    expect(await store.delete(target?.message.id as string, { hard: true, compact: true })).toBe(true);
    await rejection(store.delete('anything', { compact: true }), 'INVALID_ARGUMENT');
    expect(await store.deleteConversation('conversation-0', { hard: true, compact: true })).toBe(true);
    await flushTables(database);
    expect(
      filesContaining(await databaseFiles(database), [`my own ${person.word}`, 'conversation-0', `${FILLER}0 1`]),
    ).toStrictEqual([]);
  });
});
