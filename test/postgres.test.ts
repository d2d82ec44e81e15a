/**
 * What only the postgres backend promises: options and URLs, versioned migrations under a lock,
 * driver and connection failures as chatstore errors, monthly partitions and their retention, the
 * old log's queries, a configurable text search configuration. The API in general is the
 * conformance suite's job; EXPLAIN plans and crash recovery have files of their own.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { toChatStoreError } from '../src/backends/postgres/errors.js';
import {
  type PgPool,
  type PostgresBackend,
  type PostgresOptions,
  postgresBackend,
  postgresMigrations,
  postgresUrlOptions,
} from '../src/backends/postgres/index.js';
import { PG_MIGRATIONS } from '../src/backends/postgres/schema.js';
import { ChatStoreError, type ErrorCode } from '../src/errors.js';
import type { Message } from '../src/model.js';
import { openBackend } from '../src/open.js';
import { ChatStore } from '../src/store.js';
import {
  dropSchema,
  ensurePartmanDatabase,
  PARTMAN_DATABASE,
  POSTGRES_URL,
  storeUrl,
  testSchemaName,
  withAdmin,
} from './fixtures/pg-conformance.js';

const T0 = '2026-01-02T03:04:05.678Z';

/** A clock one second further on every reading. */
function tickingClock(): () => Date {
  let ms = Date.parse(T0);
  return () => {
    ms += 1000;
    return new Date(ms);
  };
}
const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

let schemas: string[] = [];
let closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.reverse()) await close();
  for (const schema of schemas) await dropSchema(schema);
  schemas = [];
  closers = [];
});

/** A fresh schema name of this test, dropped afterwards. */
function schemaOfTest(): string {
  const schema = testSchemaName();
  schemas.push(schema);
  return schema;
}

async function openPostgres(options: Partial<PostgresOptions> = {}): Promise<PostgresBackend> {
  const backend = await postgresBackend({ url: POSTGRES_URL, schema: options.schema ?? schemaOfTest(), ...options });
  closers.push(() => backend.close());
  return backend;
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

const tables = (schema: string): Promise<string[]> =>
  withAdmin(async (client) =>
    (
      await client.query(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`,
        [schema],
      )
    ).rows.map((row) => row.relname as string),
  );

describe('postgres options and URLs', () => {
  test('bad options are INVALID_ARGUMENT with the path of the option', async () => {
    const cases: [PostgresOptions, string][] = [
      [{}, 'url'],
      [{ url: 'mysql://localhost/x' }, 'url'],
      [{ url: POSTGRES_URL, pool: {} as PgPool }, 'pool'],
      [{ url: POSTGRES_URL, schema: 'Bad-Name' }, 'schema'],
      [{ url: POSTGRES_URL, schema: 'x'.repeat(64) }, 'schema'],
      [{ url: POSTGRES_URL, partitioning: 'weekly' as 'monthly' }, 'partitioning'],
      [{ url: POSTGRES_URL, textSearchConfig: "simple'; DROP" }, 'textSearchConfig'],
      [{ url: POSTGRES_URL, poolSize: 0 }, 'poolSize'],
      [{ url: `${POSTGRES_URL}?poolSize=many` }, 'poolSize'],
    ];
    for (const [options, path] of cases) {
      const error = await rejection(postgresBackend(options), 'INVALID_ARGUMENT');
      expect(error.path, JSON.stringify(options)).toBe(path);
    }
  });

  test('postgresql:// opens the same engine as postgres://, as libpq accepts both', async () => {
    const schema = schemaOfTest();
    const url = storeUrl(schema);
    expect(url.startsWith('postgres://')).toBe(true);
    const backend = (await openBackend(url.replace(/^postgres:/, 'postgresql:'))) as PostgresBackend;
    closers.push(() => backend.close());
    expect(backend.name).toBe('postgres');
    expect(backend.layout.schema).toBe(schema);
  });

  test('openStore URLs carry schema, partitioning and text search configuration; the rest goes to the driver', async () => {
    expect(
      postgresUrlOptions(
        'app:p@ss/w?rd@db.example:5432/chat',
        new URLSearchParams('schema=bot1&partitioning=monthly&textSearch=english&sslmode=require'),
      ),
    ).toEqual({
      url: 'postgres://app:p%40ss%2Fw%3Frd@db.example:5432/chat?sslmode=require',
      schema: 'bot1',
      partitioning: 'monthly',
      textSearchConfig: 'english',
    });
    const schema = schemaOfTest();
    const backend = (await openBackend(
      storeUrl(schema, { partitioning: 'monthly', textSearch: 'english', application_name: 'chatstore-test' }),
    )) as PostgresBackend;
    closers.push(() => backend.close());
    expect(backend.name).toBe('postgres');
    expect(backend.layout).toEqual({
      schema,
      partitioning: 'monthly',
      textSearchConfig: 'english',
      partitionManager: 'chatstore',
    });
  });

  test('a pool of your own is used as it is and stays open after close', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    try {
      const backend = await postgresBackend({ pool, schema: schemaOfTest() });
      const store = new ChatStore(backend, { now: () => new Date(T0) });
      await store.append('c1', { role: 'user', content: 'on my pool' });
      await store.close();
      await rejection(backend.getMessage('x'), 'UNAVAILABLE');
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  test('an unreachable server is UNAVAILABLE, with the driver error as cause and no password in the message', async () => {
    const error = await rejection(
      postgresBackend({ url: 'postgres://app:s3cret@127.0.0.1:1/nowhere', schema: 'chatstore' }),
      'UNAVAILABLE',
    );
    expect(error.cause).toBeDefined();
    expect(error.message).not.toContain('s3cret');
  });

  test('a missing pg driver is MISSING_DRIVER naming what to install', async () => {
    // A child process in which `pg` cannot be resolved, as on a machine where it is not installed.
    const script = `
      const { postgresBackend } = await import('./src/backends/postgres/index.js');
      try { await postgresBackend({ url: ${JSON.stringify(POSTGRES_URL)} }); }
      catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }`;
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--import', './test/fixtures/pg-no-driver.mjs', '--input-type=module', '-e', script],
      { cwd: repoRoot },
    );
    expect(JSON.parse(stdout)).toEqual({
      code: 'MISSING_DRIVER',
      message: 'the postgres backend needs pg: npm install pg',
    });
  });

  test('driver and server failures that mean "not now" become UNAVAILABLE; others pass through', () => {
    const unavailable = [
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect to postgres://app:hunter2@db/x'),
    ];
    for (const error of unavailable) {
      const mapped = toChatStoreError(error) as ChatStoreError;
      expect(mapped, error.message).toBeInstanceOf(ChatStoreError);
      expect(mapped.code).toBe('UNAVAILABLE');
      expect(mapped.cause).toBe(error);
      expect(mapped.message).not.toContain('hunter2');
    }
    const bug = Object.assign(new Error('syntax error'), { code: '42601' });
    expect(toChatStoreError(bug)).toBe(bug);
    const conflict = new ChatStoreError('CONFLICT', 'x');
    expect(toChatStoreError(conflict)).toBe(conflict);
  });
});

describe('postgres schema versions', () => {
  test('a new schema records its version and layout; reopening keeps everything', async () => {
    const schema = schemaOfTest();
    const first = await openPostgres({ schema });
    const store = new ChatStore(first, { now: () => new Date(T0) });
    const [appended] = await store.append('c1', { role: 'user', content: 'kept', externalId: 'e1' });
    await first.close();
    const state = await withAdmin(
      async (client) => (await client.query(`SELECT * FROM "${schema}".chatstore_schema`)).rows,
    );
    expect(state).toEqual([
      { version: PG_MIGRATIONS.length, partitioning: 'none', text_search_config: 'simple', partition_manager: 'none' },
    ]);
    expect(await tables(schema)).toEqual([
      'chatstore_schema',
      'conversations',
      'message_ids',
      'messages',
      'participants',
    ]);
    const again = new ChatStore(await openPostgres({ schema }));
    expect(await again.get(appended?.message.id as string)).toStrictEqual(appended?.message);
  });

  test('a version 1 schema is upgraded in place: stored messages get their search length and rank as before', async () => {
    const schema = schemaOfTest();
    const store = new ChatStore(await openPostgres({ schema }), { now: tickingClock() });
    await store.append('c1', [
      { role: 'user', content: 'I asked about many things today: the weather, delivery times and maybe a refund' },
      { role: 'user', content: 'refund refund refund please' },
    ]);
    const before = (await store.search('refund')).hits.map((hit) => [hit.message.id, hit.score]);
    // What a schema written by the release before this migration looks like.
    await withAdmin(async (client) => {
      await client.query(`ALTER TABLE "${schema}".messages DROP COLUMN search_length`);
      await client.query(`UPDATE "${schema}".chatstore_schema SET version = 1`);
    });
    const upgraded = new ChatStore(await openPostgres({ schema }));
    const lengths = await withAdmin(async (client) =>
      (await client.query(`SELECT search_length AS n FROM "${schema}".messages ORDER BY seq`)).rows.map((row) => row.n),
    );
    expect(lengths).toEqual([14, 4]);
    expect((await upgraded.search('refund')).hits.map((hit) => [hit.message.id, hit.score])).toEqual(before);
    // A row written by another tool (no length) is measured by the search itself, with the same score.
    await withAdmin((client) => client.query(`UPDATE "${schema}".messages SET search_length = NULL`));
    expect((await upgraded.search('refund')).hits.map((hit) => [hit.message.id, hit.score])).toEqual(before);
  });

  test('the layout is fixed at creation: a different partitioning or configuration is INVALID_ARGUMENT', async () => {
    const schema = schemaOfTest();
    const created = await openPostgres({ schema });
    await created.close();
    expect((await rejection(openPostgres({ schema, partitioning: 'monthly' }), 'INVALID_ARGUMENT')).path).toBe(
      'partitioning',
    );
    expect((await rejection(openPostgres({ schema, textSearchConfig: 'english' }), 'INVALID_ARGUMENT')).path).toBe(
      'textSearchConfig',
    );
    // Without those options, the stored layout is used.
    expect((await openPostgres({ schema })).layout.partitioning).toBe('none');
  });

  test('an unknown text search configuration is INVALID_ARGUMENT and creates nothing', async () => {
    const schema = schemaOfTest();
    expect((await rejection(openPostgres({ schema, textSearchConfig: 'klingon' }), 'INVALID_ARGUMENT')).path).toBe(
      'textSearchConfig',
    );
    expect(await tables(schema)).toEqual([]);
  });

  test('a schema written by a newer release is UNSUPPORTED and left as it is', async () => {
    const schema = schemaOfTest();
    await (await openPostgres({ schema })).close();
    await withAdmin((client) => client.query(`UPDATE "${schema}".chatstore_schema SET version = version + 1`));
    const error = await rejection(openPostgres({ schema }), 'UNSUPPORTED');
    expect(error.message).toContain('upgrade chatstore');
  });

  test('8 processes opening a fresh schema at once create it once', async () => {
    const schema = schemaOfTest();
    const backends = await Promise.all(Array.from({ length: 8 }, () => openPostgres({ schema, poolSize: 2 })));
    expect(backends).toHaveLength(8);
    const versions = await withAdmin(
      async (client) => (await client.query(`SELECT version FROM "${schema}".chatstore_schema`)).rows,
    );
    expect(versions).toEqual([{ version: PG_MIGRATIONS.length }]);
  });

  test('the migration plan: a dry run prints the SQL and changes nothing; then it applies; then nothing is left', async () => {
    const schema = schemaOfTest();
    const dry = await postgresMigrations({ url: POSTGRES_URL, schema, dryRun: true });
    expect(dry).toMatchObject({ schema, from: 0, to: PG_MIGRATIONS.length });
    const sql = dry.statements.join(';\n');
    expect(sql).toContain(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    expect(sql).toContain('PRIMARY KEY (conversation_id, seq)');
    expect(sql).toMatch(/-- search: .*\n.*USING gin \(search_vector\) WHERE deleted_at IS NULL/);
    expect(await tables(schema)).toEqual([]);
    const applied = await postgresMigrations({ url: POSTGRES_URL, schema });
    expect(applied.statements).toEqual(dry.statements);
    expect(await tables(schema)).toContain('messages');
    expect((await postgresMigrations({ url: POSTGRES_URL, schema, dryRun: true })).statements).toEqual([]);
  });

  test('chatstore schema prints the SQL, applies it unless --dry-run, and says when nothing is left', async () => {
    const schema = schemaOfTest();
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'schema', '--url', storeUrl(schema), ...args], {
        cwd: repoRoot,
      });
    const dry = await cli('--dry-run');
    expect(dry.stdout).toMatch(
      new RegExp(
        `^-- schema "chatstore_test_\\w+": version 0 -> ${PG_MIGRATIONS.length} \\(partitioning none, text search simple\\); dry run`,
      ),
    );
    expect(dry.stdout).toContain('CREATE TABLE');
    expect(await tables(schema)).toEqual([]);
    const applied = await cli();
    expect(applied.stdout).toContain('; applied');
    expect(await tables(schema)).toContain('messages');
    expect((await cli('--dry-run')).stdout).toBe(
      `-- schema "${schema}" is up to date (version ${PG_MIGRATIONS.length})\n`,
    );
  });

  test('every index carries a comment naming the query that needs it', async () => {
    const { statements } = await postgresMigrations({ url: POSTGRES_URL, schema: testSchemaName(), dryRun: true });
    const indexes = statements.filter((statement) => /CREATE (UNIQUE )?INDEX/.test(statement));
    expect(indexes.length).toBeGreaterThanOrEqual(10);
    for (const statement of indexes) expect(statement, statement).toMatch(/^-- \S.*\n/);
  });
});

describe('postgres monthly partitions', () => {
  const at = (iso: string) => ({ role: 'user' as const, content: `written ${iso}`, createdAt: iso });

  test('partitions are made ahead of time and for every month an append brings; none in the default partition', async () => {
    const backend = await openPostgres({ partitioning: 'monthly' });
    const store = new ChatStore(backend);
    const current = new Date().toISOString().slice(0, 7);
    const premade = (await backend.partitions()).map((partition) => partition.from.slice(0, 7));
    expect(premade).toContain(current);
    expect(premade.length).toBeGreaterThanOrEqual(5);
    await store.append('c1', [
      at('2019-03-10T00:00:00.000Z'),
      at('0001-01-01T00:00:00.000Z'),
      at('9999-12-31T23:59:59.999Z'),
    ]);
    const months = (await backend.partitions()).map((partition) => partition.from.slice(0, 7));
    expect(months).toEqual(expect.arrayContaining(['0001-01', '2019-03', '9999-12']));
    const inDefault = await withAdmin(
      async (client) =>
        (await client.query(`SELECT count(*)::int AS n FROM "${backend.layout.schema}".messages_default`)).rows[0].n,
    );
    expect(inDefault).toBe(0);
    expect((await store.recent('c1', 10)).map((message) => message.createdAt)).toEqual([
      '2019-03-10T00:00:00.000Z',
      '0001-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
    ]);
  });

  test('rows of a month already in the default partition move into that month when its partition is made', async () => {
    const backend = await openPostgres({ partitioning: 'monthly' });
    const s = `"${backend.layout.schema}"`;
    await withAdmin((client) =>
      client.query(
        `INSERT INTO ${s}.messages_default (conversation_id, seq, id, context_type, role, direction, content,
           created_at, search_vector, body)
         VALUES ('stray', 1, 'stray-1', 'private', 'user', 'incoming', 'stray', '2018-05-05T00:00:00Z', '', '{}')`,
      ),
    );
    const store = new ChatStore(backend);
    await store.append('c1', at('2018-05-20T00:00:00.000Z'));
    const placed = await withAdmin(
      async (client) =>
        (await client.query(`SELECT tableoid::regclass::text AS partition FROM ${s}.messages ORDER BY created_at`))
          .rows,
    );
    expect(placed).toEqual([
      { partition: `${backend.layout.schema}.messages_y2018m05` },
      { partition: `${backend.layout.schema}.messages_y2018m05` },
    ]);
  });

  test('dropPartitionsBefore drops whole months and keeps ids, external ids and counts in step', async () => {
    const backend = await openPostgres({ partitioning: 'monthly' });
    const store = new ChatStore(backend);
    const old = await store.append('c1', [
      { ...at('2020-01-15T00:00:00.000Z'), externalId: 'old-1' },
      { ...at('2020-02-15T00:00:00.000Z'), externalId: 'old-2' },
    ]);
    const [kept] = await store.append('c1', { ...at('2020-03-15T00:00:00.000Z'), externalId: 'kept' });
    await store.append('c2', at('2020-01-20T00:00:00.000Z'));

    const dropped = await backend.dropPartitionsBefore('2020-03-01T00:00:00.000Z');
    expect(dropped.dropped).toEqual(expect.arrayContaining(['messages_y2020m01', 'messages_y2020m02']));
    expect(dropped.messagesDeleted).toBe(3);
    expect((await backend.partitions()).some((partition) => partition.from < '2020-03-01')).toBe(false);
    for (const result of old) expect(await store.get(result.message.id)).toBeUndefined();
    expect(await store.getByExternalId('old-1')).toBeUndefined();
    expect(await store.recent('c1')).toStrictEqual([kept?.message]);
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 3, messageCount: 1 });
    expect(await store.getConversation('c2')).toMatchObject({ lastSeq: 1, messageCount: 0 });
    // The external id is free again, and a message for a dropped month gets its partition back.
    const [again] = await store.append('c1', { ...at('2020-01-16T00:00:00.000Z'), externalId: 'old-1' });
    expect(again).toMatchObject({ duplicate: false, message: { seq: 4 } });
    expect(await backend.dropPartitionsBefore('1900-01-01T00:00:00.000Z')).toEqual({
      dropped: [],
      messagesDeleted: 0,
    });
    await rejection(backend.dropPartitionsBefore('yesterday'), 'INVALID_ARGUMENT');
  });

  test('with pg_partman installed, pg_partman makes and registers every partition, also for months an append brings', async () => {
    await ensurePartmanDatabase();
    const schema = testSchemaName();
    const url = storeUrl(schema, {}, PARTMAN_DATABASE);
    try {
      const backend = await postgresBackend({ url, partitioning: 'monthly' });
      try {
        expect(backend.layout.partitionManager).toBe('pg_partman');
        const store = new ChatStore(backend);
        const current = new Date().toISOString().slice(0, 7).replace('-', '_');
        expect((await backend.partitions()).map((partition) => partition.name)).toContain(`messages_p${current}`);
        await store.append('c1', [
          { ...at('2019-03-10T00:00:00.000Z'), externalId: 'old' },
          at(new Date().toISOString()),
        ]);
        const registered = await withAdmin(
          async (client) =>
            (
              await client.query('SELECT partition_tablename AS name FROM partman.show_partitions($1)', [
                `${schema}.messages`,
              ])
            ).rows.map((row) => row.name as string),
          PARTMAN_DATABASE,
        );
        expect(registered).toContain('messages_p2019_03');
        const inDefault = await withAdmin(
          async (client) =>
            (await client.query(`SELECT count(*)::int AS n FROM "${schema}".messages_default`)).rows[0].n,
          PARTMAN_DATABASE,
        );
        expect(inDefault).toBe(0);
        expect(await backend.dropPartitionsBefore('2019-04-01T00:00:00.000Z')).toEqual({
          dropped: ['messages_p2019_03'],
          messagesDeleted: 1,
        });
        expect(await store.getByExternalId('old')).toBeUndefined();
        expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 2, messageCount: 1 });
      } finally {
        await backend.close();
      }
    } finally {
      await dropSchema(schema, PARTMAN_DATABASE);
    }
  });

  test('retention on an unpartitioned schema is UNSUPPORTED', async () => {
    const backend = await openPostgres();
    await rejection(backend.dropPartitionsBefore(new Date()), 'UNSUPPORTED');
    expect(await backend.partitions()).toEqual([]);
  });
});

describe.each(['none', 'monthly'] as const)('the old log on postgres (partitioning %s)', (partitioning) => {
  test('by sender, failed, with media, replies and metadata containment, each from its own index', async () => {
    const backend = await openPostgres({ partitioning });
    const store = new ChatStore(backend, { now: tickingClock() });
    const put = async (conversationId: string, message: Parameters<ChatStore['append']>[1]) =>
      (await store.append(conversationId, message))[0]?.message as Message;
    const question = await put('c1', {
      role: 'user',
      content: 'photo?',
      senderId: 'ana',
      metadata: { campaign: 'spring' },
    });
    const photo = await put('c1', {
      role: 'assistant',
      content: '',
      senderId: 'bot',
      replyTo: question.id,
      media: [{ url: 'https://cdn.example/p.jpg', type: 'image', mimeType: 'image/jpeg', size: 10 }],
    });
    const thanks = await put('c1', { role: 'user', content: 'thanks', senderId: 'ana', replyTo: photo.id });
    const elsewhere = await put('c2', { role: 'user', content: 'hi', senderId: 'ana', metadata: { campaign: 'fall' } });
    const undelivered = await put('c2', { role: 'assistant', content: 'offer', senderId: 'bot' });
    const failed = await store.updateStatus(undelivered.id, 'failed', { error: { code: '131026', message: 'no' } });
    const gone = await put('c1', { role: 'user', content: 'oops', senderId: 'ana', replyTo: question.id });
    await store.delete(gone.id);

    expect(await backend.bySender('ana')).toStrictEqual([elsewhere, thanks, question]);
    expect(await backend.bySender('ana', { limit: 1, before: elsewhere.createdAt })).toStrictEqual([thanks]);
    expect(await backend.failed()).toStrictEqual([failed]);
    expect(await backend.failed({ conversationId: 'c1' })).toStrictEqual([]);
    expect(await backend.withMedia('c1')).toStrictEqual([photo]);
    expect(await backend.replies(question.id)).toStrictEqual([photo]);
    expect(await backend.replies(photo.id)).toStrictEqual([thanks]);
    expect(await backend.byMetadata({ campaign: 'spring' })).toStrictEqual([question]);
    expect(await backend.byMetadata({ campaign: 'fall' }, { conversationId: 'c1' })).toStrictEqual([]);
    await rejection(backend.bySender('ana', { limit: 0 }), 'INVALID_ARGUMENT');
  });
});

describe('postgres text search configuration', () => {
  test("'english' stems words; the default 'simple' matches words as written", async () => {
    const english = new ChatStore(await openPostgres({ textSearchConfig: 'english' }));
    const simple = new ChatStore(await openPostgres());
    for (const store of [english, simple]) {
      await store.append('c1', { role: 'user', content: 'She was running to the stores' });
    }
    expect((await english.search('run store')).hits).toHaveLength(1);
    expect((await simple.search('run store')).hits).toHaveLength(0);
    expect((await simple.search('running stores')).hits).toHaveLength(1);
  });
});
