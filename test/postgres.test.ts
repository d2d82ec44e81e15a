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
import { memoryBackend } from '../src/backends/memory/index.js';
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
import { erasedPerson, FILLER, filesContaining, fillWithPerson, type ScannedFile } from './fixtures/on-disk.js';
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

  test('the content is stored once: in its column, not again in the body; a body that still holds it reads the same', async () => {
    const schema = schemaOfTest();
    const store = new ChatStore(await openPostgres({ schema }), { now: () => new Date(T0) });
    const [appended] = await store.append('c1', { role: 'user', content: 'stored once', metadata: { k: 'v' } });
    const stored = async () =>
      withAdmin(async (client) => (await client.query(`SELECT content, body FROM "${schema}".messages`)).rows[0]);
    const row = await stored();
    expect(row.content).toBe('stored once');
    expect(row.body).not.toHaveProperty('content');
    expect(row.body).toHaveProperty('metadata', { k: 'v' });
    // A row written by an earlier release kept the content in its body too.
    await withAdmin((client) =>
      client.query(`UPDATE "${schema}".messages SET body = (body::jsonb || '{"content":"stored once"}')::json`),
    );
    expect((await stored()).body).toHaveProperty('content', 'stored once');
    expect(await store.get(appended?.message.id as string)).toStrictEqual(appended?.message);
    expect(await store.recent('c1')).toStrictEqual([appended?.message]);
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

describe('postgres search: every word, store-wide statistics', () => {
  /** Per conversation: the counters search reads, and what they must be (the rows, summed). */
  const countersAndRows = (schema: string) =>
    withAdmin(async (client) => {
      const s = `"${schema}"`;
      const counters = await client.query(
        `SELECT conversation_id, message_count::int AS messages, search_terms::int AS terms FROM ${s}.conversations ORDER BY 1`,
      );
      const rows = await client.query(
        `SELECT c.conversation_id, count(m.seq)::int AS messages, coalesce(sum(m.search_length), 0)::int AS terms
         FROM ${s}.conversations c LEFT JOIN ${s}.messages m ON m.conversation_id = c.conversation_id
         GROUP BY c.conversation_id ORDER BY 1`,
      );
      return [counters.rows, rows.rows];
    });

  test('a version 2 schema is upgraded in place: words it left out or counted short are indexed again, scores unchanged', async () => {
    const schema = schemaOfTest();
    const store = new ChatStore(await openPostgres({ schema }), { now: tickingClock() });
    const long = 'x'.repeat(2500);
    await store.append('c1', [
      { role: 'user', content: `refund ${long}` },
      { role: 'user', content: `${'spam '.repeat(300)}refund` },
      { role: 'user', content: 'refund please' },
    ]);
    await store.append('c2', [{ role: 'user', content: 'another refund question' }]);
    const scores = async (target: ChatStore) =>
      Promise.all(
        ['refund', 'spam refund', long, 'please'].map(async (query) =>
          (await target.search(query)).hits.map((hit) => [hit.message.id, hit.score]),
        ),
      );
    const before = await scores(store);
    expect(before.map((hits) => hits.length)).toEqual([4, 1, 1, 1]);
    // Vectors as version 2 could hold them (here the parser's: at most 255 positions per word, no
    // word over 2,047 bytes), lengths summed from those positions; no totals, and a search index
    // without soft-deleted rows.
    await withAdmin(async (client) => {
      const s = `"${schema}"`;
      await client.query(`UPDATE ${s}.messages SET search_vector = to_tsvector('simple', content)`);
      await client.query(
        `UPDATE ${s}.messages SET search_length = (SELECT sum(cardinality(u.positions)) FROM unnest(search_vector) u)`,
      );
      await client.query(`ALTER TABLE ${s}.conversations DROP COLUMN search_terms`);
      await client.query(`DROP INDEX ${s}.messages_words`);
      await client.query(
        `CREATE INDEX messages_search ON ${s}.messages USING gin (search_vector) WHERE deleted_at IS NULL`,
      );
      await client.query(`UPDATE ${s}.chatstore_schema SET version = 2`);
    });
    const upgraded = new ChatStore(await openPostgres({ schema }));
    expect(await scores(upgraded)).toEqual(before);
    const [counters, rows] = await countersAndRows(schema);
    expect(counters).toEqual(rows);
    expect(counters).toEqual([
      { conversation_id: 'c1', messages: 3, terms: 2 + 301 + 2 },
      { conversation_id: 'c2', messages: 1, terms: 3 },
    ]);
    const indexes = await withAdmin(
      async (client) =>
        (await client.query('SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1', [schema])).rows,
    );
    expect(indexes.map((row) => row.indexname)).toContain('messages_words');
    expect(indexes.map((row) => row.indexname)).not.toContain('messages_search');
  });

  test('a word repeated past 256 times or past the 16,383rd word counts in full', async () => {
    const store = new ChatStore(await openPostgres());
    const memory = new ChatStore(memoryBackend());
    const contents = [`${'spam '.repeat(9000)}refund`, `${'f '.repeat(17_000)}refund refund`, 'refund spam', 'refund'];
    for (const target of [store, memory]) {
      for (const [i, content] of contents.entries()) {
        await target.append('c1', { id: `m${i}`, role: 'user', content });
      }
    }
    for (const query of ['refund', 'spam', 'spam refund', 'f', 'f refund']) {
      const [got, expected] = await Promise.all([store.search(query), memory.search(query)]);
      expect(
        got.hits.map((hit) => hit.message.id),
        query,
      ).toEqual(expected.hits.map((hit) => hit.message.id));
      got.hits.forEach((hit, i) => {
        expect(Math.abs(hit.score - (expected.hits[i]?.score as number))).toBeLessThanOrEqual(1e-9 * hit.score);
      });
    }
  });

  test('dropping partitions keeps the statistics in step', async () => {
    const backend = await openPostgres({ partitioning: 'monthly' });
    const store = new ChatStore(backend);
    const message = (createdAt: string, content: string) => ({ role: 'user' as const, content, createdAt });
    await store.append('c1', [
      message('2020-01-15T00:00:00.000Z', 'old refund words here'),
      message('2020-03-15T00:00:00.000Z', 'kept refund'),
    ]);
    await store.append('c2', message('2020-02-15T00:00:00.000Z', 'old refund refund'));
    await backend.dropPartitionsBefore('2020-03-01T00:00:00.000Z');
    const [counters, rows] = await countersAndRows(backend.layout.schema);
    expect(counters).toEqual(rows);
    expect(counters).toEqual([
      { conversation_id: 'c1', messages: 1, terms: 2 },
      { conversation_id: 'c2', messages: 0, terms: 0 },
    ]);
  });

  test("'english' finds words of any length too", async () => {
    const store = new ChatStore(await openPostgres({ textSearchConfig: 'english' }));
    const long = `${'y'.repeat(3000)}s`;
    const [appended] = await store.append('c1', { role: 'user', content: `running ${long}` });
    expect((await store.search(long)).hits.map((hit) => hit.message.id)).toEqual([appended?.message.id]);
    expect((await store.search(`run ${long}`)).hits).toHaveLength(1);
    expect((await store.search(`${'y'.repeat(3000)}t`)).hits).toEqual([]);
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

/**
 * The files of a schema's tables, their TOAST tables and all their indexes, and of `pg_statistic`
 * (where ANALYZE keeps sampled values): what an erasure could leave the words of a person in.
 */
async function relationFiles(schema: string): Promise<ScannedFile[]> {
  return withAdmin(async (client) => {
    const dataDirectory = (await client.query('SHOW data_directory')).rows[0]?.data_directory as string;
    const { rows } = await client.query(
      `WITH own AS (
         SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'i', 'm')
         UNION SELECT 'pg_catalog.pg_statistic'::regclass::oid
         UNION SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = 'pg_catalog.pg_statistic'::regclass
       ), toast AS (
         SELECT c.reltoastrelid AS oid FROM pg_class c JOIN own ON own.oid = c.oid WHERE c.reltoastrelid <> 0
       ), toast_index AS (
         SELECT i.indexrelid AS oid FROM pg_index i JOIN toast ON toast.oid = i.indrelid
       ), every AS (SELECT oid FROM own UNION SELECT oid FROM toast UNION SELECT oid FROM toast_index)
       SELECT format('%s.%s', n.nspname, c.relname) AS name, pg_relation_filepath(c.oid) AS path
       FROM every JOIN pg_class c ON c.oid = every.oid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE pg_relation_filepath(c.oid) IS NOT NULL`,
      [schema],
    );
    return rows.map((row) => ({ name: row.name as string, path: `${dataDirectory}/${row.path as string}` }));
  });
}

/** The relation file of each of a schema's tables and indexes, by name (a rewrite gives a new one). */
const fileNodes = (schema: string): Promise<Map<string, string>> =>
  withAdmin(
    async (client) =>
      new Map(
        (
          await client.query(
            `SELECT c.relname, pg_relation_filenode(c.oid)::text AS node FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')`,
            [schema],
          )
        ).rows.map((row) => [row.relname as string, row.node as string]),
      ),
  );

/** ANALYZE every table of the schema (the partitioned one too), so `pg_statistic` holds sampled values. */
const analyzeSchema = (schema: string): Promise<void> =>
  withAdmin(async (client) => {
    const { rows } = await client.query(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
      [schema],
    );
    await client.query(`ANALYZE ${rows.map((row) => row.name as string).join(', ')}`);
  });

/** Whether some full-text (GIN) index of the schema holds `word`, among the scan's hits. */
const inGinIndex = async (schema: string, hits: string[], word: string): Promise<boolean> => {
  const gin = await withAdmin(async (client) =>
    (
      await client.query(
        `SELECT format('%s.%s', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_am a ON a.oid = c.relam WHERE n.nspname = $1 AND a.amname = 'gin'`,
        [schema],
      )
    ).rows.map((row) => row.name as string),
  );
  return gin.some((name) => hits.includes(`${name}: ${word}`));
};

const checkpoint = (): Promise<unknown> => withAdmin((client) => client.query('CHECKPOINT'));

describe.each(['none', 'monthly'] as const)('postgres erasure on disk (partitioning %s)', (partitioning) => {
  test('eraseSubject with compact: true leaves none of the words or the id in any file of the tables, their TOAST and indexes, or pg_statistic', async () => {
    const schema = schemaOfTest();
    const store = new ChatStore(await openPostgres({ schema, partitioning }));
    const person = erasedPerson();
    const stored = await fillWithPerson(store, person);
    await analyzeSchema(schema);
    await checkpoint();
    const before = filesContaining(await relationFiles(schema), person.needles);
    // The scan sees what is there: the messages (or their partitions), TOAST, the search index, statistics.
    expect(before).toContain(`pg_catalog.pg_statistic: ${person.subjectId}`);
    expect(before.some((hit) => hit.startsWith('pg_toast.') && hit.endsWith(person.word))).toBe(true);
    expect(await inGinIndex(schema, before, person.word)).toBe(true);

    const receipt = await store.eraseSubject(person.subjectId, { compact: true });
    expect(receipt).toMatchObject({
      messagesDeleted: 34,
      conversationsDeleted: [person.subjectId],
      compaction: 'done',
    });
    // When the call resolves, before any checkpoint, and after one.
    expect(filesContaining(await relationFiles(schema), person.needles)).toStrictEqual([]);
    await checkpoint();
    expect(filesContaining(await relationFiles(schema), person.needles)).toStrictEqual([]);
    // The rest is intact and found.
    expect((await store.stats()).total).toBe(stored - 34);
    expect((await store.search('lorem', { limit: 1 })).hits).toHaveLength(1);
  });

  test('without compact, an erasure leaves the bytes in the files until VACUUM rewrites or reuses the space', async () => {
    const schema = schemaOfTest();
    const store = new ChatStore(await openPostgres({ schema, partitioning }));
    const person = erasedPerson();
    await fillWithPerson(store, person);
    await withAdmin(async (client) => {
      // No autovacuum between the erasure and the scan: what is looked at is what the erasure leaves.
      const { rows } = await client.query(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [schema],
      );
      for (const { name } of rows) {
        await client.query(`ALTER TABLE ${name} SET (autovacuum_enabled = off, toast.autovacuum_enabled = off)`);
      }
    });
    const receipt = await store.eraseSubject(person.subjectId);
    expect(receipt.compaction).toBeUndefined();
    expect(await store.search(person.word)).toMatchObject({ hits: [] });
    await checkpoint();
    const after = filesContaining(await relationFiles(schema), person.needles);
    // Dead row versions: in the table (or its partitions), in TOAST, in the search index, in participants.
    expect(after.some((hit) => /^chatstore_test_\w+\.messages\w*: erasedword/.test(hit))).toBe(true);
    expect(after.some((hit) => hit.startsWith('pg_toast.') && hit.endsWith(person.word))).toBe(true);
    expect(await inGinIndex(schema, after, person.word)).toBe(true);
    expect(after).toContain(`${schema}.participants: ${person.subjectId}`);

    // compact() rewrites the whole store afterwards.
    const report = await store.compact();
    expect(report.rewritten).toEqual(expect.arrayContaining([`${schema}.participants`, 'pg_catalog.pg_statistic']));
    expect(report.skipped).toStrictEqual([]);
    expect(filesContaining(await relationFiles(schema), person.needles)).toStrictEqual([]);
  });

  test('a compacting hard delete rewrites only the partitions it removed rows from, and the other tables', async () => {
    const schema = schemaOfTest();
    const store = new ChatStore(await openPostgres({ schema, partitioning }));
    const person = erasedPerson();
    await fillWithPerson(store, person);
    const [target] = (await store.search(person.word, { conversationId: person.subjectId })).hits;
    expect(target?.message.createdAt).toBe('2026-02-14T09:00:00.000Z');
    await checkpoint();
    const nodes = await fileNodes(schema);

    expect(await store.delete(target?.message.id as string, { hard: true, compact: true })).toBe(true);
    const rewritten = await fileNodes(schema);
    const changed = [...nodes.keys()].filter((name) => rewritten.get(name) !== nodes.get(name)).sort();
    if (partitioning === 'monthly') {
      const partitions = changed.filter((name) => name.startsWith('messages_y'));
      expect(partitions.length).toBeGreaterThan(0);
      expect(partitions.filter((name) => !name.startsWith('messages_y2026m02'))).toStrictEqual([]);
    }
    expect(changed).toEqual(expect.arrayContaining(['conversations', 'participants', 'message_ids']));
    expect(filesContaining(await relationFiles(schema), [`my own ${person.word} conversation`])).toStrictEqual([]);

    // The same for a conversation; a soft delete cannot compact.
    await rejection(store.deleteConversation('conversation-0', { compact: true }), 'INVALID_ARGUMENT');
    expect(await store.deleteConversation('conversation-0', { hard: true, compact: true })).toBe(true);
    expect(filesContaining(await relationFiles(schema), ['conversation-0', `${FILLER}0 1`])).toStrictEqual([]);
  });
});
