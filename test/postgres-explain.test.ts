/**
 * Reads cost O(page), never O(history) (invariant 5 in docs/ARCHITECTURE.md): on 120,000 messages, the plans PostgreSQL
 * picks for the backend's own statements (recent, list, around, search, by sender, failed, with
 * media, and the lookups by id) are index scans, with the parameters' values (custom plans) and
 * without them (the generic plans prepared statements switch to), on both layouts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type PostgresBackend, postgresBackend } from '../src/backends/postgres/index.js';
import { type PgSql, pgSql } from '../src/backends/postgres/statements.js';
import { ChatStore } from '../src/store.js';
import { dropSchema, POSTGRES_URL, testSchemaName, withAdmin } from './fixtures/pg-conformance.js';

const MESSAGES = 120_000;
/** One long conversation (a busy group) among many short ones. */
const BIG = 'big';
const BIG_SIZE = 50_000;
const SMALL_SIZE = 100;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** Fills the schema's tables with SQL (fast), as the backend would have: same columns, same vectors. */
async function fill(client: pg.Client, schema: string): Promise<void> {
  const s = `"${schema}"`;
  await client.query(`
    INSERT INTO ${s}.messages (conversation_id, seq, id, external_id, context_type, role, direction, sender_id,
      recipient_id, content, media, media_url, media_type, status, error_message, failed_at, reply_to, metadata,
      created_at, search_vector, body)
    SELECT conversation_id, seq, 'm-' || i, 'wamid.' || i, 'private',
      CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
      CASE WHEN i % 2 = 0 THEN 'incoming' ELSE 'outgoing' END,
      CASE WHEN i % 2 = 0 THEN 'user-' || (i % 5000) ELSE 'bot' END,
      CASE WHEN i % 2 = 0 THEN 'bot' ELSE 'user-' || (i % 5000) END,
      content,
      CASE WHEN i % 20 = 0 THEN json_build_array(json_build_object('url', 'https://cdn.example/' || i, 'type', 'image')) END,
      CASE WHEN i % 20 = 0 THEN 'https://cdn.example/' || i END,
      CASE WHEN i % 20 = 0 THEN 'image' END,
      CASE WHEN i % 200 = 1 THEN 'failed' WHEN i % 2 = 1 THEN 'sent' END,
      CASE WHEN i % 200 = 1 THEN 'undeliverable' END,
      CASE WHEN i % 200 = 1 THEN now() - (${MESSAGES} - i) * interval '10 seconds' END,
      CASE WHEN i % 50 = 0 THEN 'm-' || (i - 1) END,
      CASE WHEN i % 5 = 0 THEN json_build_object('campaign', 'c' || (i % 50)) END,
      now() - (${MESSAGES} - i) * interval '10 seconds',
      to_tsvector('simple', content),
      json_build_object('id', 'm-' || i, 'content', content)
    FROM (
      SELECT i,
        CASE WHEN i <= ${BIG_SIZE} THEN '${BIG}' ELSE 'conv-' || ((i - ${BIG_SIZE} - 1) / ${SMALL_SIZE}) END AS conversation_id,
        CASE WHEN i <= ${BIG_SIZE} THEN i ELSE (i - ${BIG_SIZE} - 1) % ${SMALL_SIZE} + 1 END AS seq,
        'order ' || (i % 7) || ' word' || (i % 1000) || ' rare' || (i % 20000) || ' text' AS content
      FROM generate_series(1, ${MESSAGES}) AS i
    ) generated`);
  await client.query(
    `INSERT INTO ${s}.message_ids (id, conversation_id, seq, created_at)
     SELECT id, conversation_id, seq, created_at FROM ${s}.messages`,
  );
  const external = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [`${s}.message_external_ids`]);
  if (external.rows[0].present === true) {
    await client.query(
      `INSERT INTO ${s}.message_external_ids (external_id, conversation_id, seq, created_at)
       SELECT external_id, conversation_id, seq, created_at FROM ${s}.messages`,
    );
  }
  await client.query(`
    INSERT INTO ${s}.conversations (conversation_id, type, created_at, updated_at, last_seq, message_count,
      last_message_at, activity_at)
    SELECT conversation_id, 'private', min(created_at), max(created_at), max(seq), count(*), max(created_at), max(created_at)
    FROM ${s}.messages GROUP BY conversation_id`);
  for (const table of ['messages', 'message_ids', 'conversations']) await client.query(`ANALYZE ${s}.${table}`);
  if (external.rows[0].present === true) await client.query(`ANALYZE ${s}.message_external_ids`);
}

/** A statement of the backend with representative values, by what the API calls it. */
function statements(sql: PgSql): [string, string, unknown[]][] {
  const range = (order: 'asc' | 'desc') => sql.range({ order, includeDeleted: false, from: false, to: false }).text;
  const search = sql.search({ conversation: false, sender: false, from: false, to: false, after: false }).text;
  const searchIn = sql.search({ conversation: true, sender: false, from: false, to: false, after: false }).text;
  return [
    ['recent', range('desc'), [BIG, 0, Number.MAX_SAFE_INTEGER, 20]],
    ['list (next page, oldest first)', range('asc'), [BIG, 25_000, Number.MAX_SAFE_INTEGER, 51]],
    ['list (next page, newest first)', range('desc'), [BIG, 0, 25_000, 51]],
    ['around (older side)', range('desc'), [BIG, 0, 30_000, 5]],
    ['around (newer side)', range('asc'), [BIG, 29_999, Number.MAX_SAFE_INTEGER, 6]],
    ['search', search, ["'rare123' & 'order'", ['rare123', 'order'], 20]],
    ['search in a conversation', searchIn, ["'word7'", ['word7'], 'conv-3', 20]],
    ['by sender', sql.bySender, ['user-42', 'infinity', 50]],
    ['failed', sql.failed, ['infinity', null, 50]],
    ['with media', sql.withMedia, [BIG, Number.MAX_SAFE_INTEGER, 50]],
    ['replies', sql.replies, ['m-999', 50]],
    ['by metadata', sql.byMetadata, ['{"campaign":"c7"}', null, 50]],
    [
      'append (its duplicate check)',
      sql.appendMessages,
      [
        BIG,
        'private',
        null,
        '{}',
        '2026-01-01T00:00:00Z',
        null,
        '2026-01-01T00:00:00Z',
        ['m-new'],
        ['wamid.new'],
        '[]',
        '[]',
        1,
        'whatsapp',
      ],
    ],
    ['stats of a conversation: its channel', sql.channelStatsOfOne, [BIG]],
    ['append under the lock: stored ids', sql.messagesByIds, [['m-12345', 'm-new']]],
    ['append under the lock: stored external ids', sql.messagesByExternalIds, [BIG, ['wamid.12345', 'wamid.new']]],
    ['get', sql.message, ['m-12345']],
    ['get by external id', sql.messageByExternalId, [BIG, 'wamid.12345']],
    ['get by external id, any conversation', sql.firstMessageByExternalId, ['wamid.12345']],
  ];
}

function sqlLiteral(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `ARRAY[${value.map(sqlLiteral).join(', ')}]::text[]`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

const MESSAGE_TABLES = /^(messages|messages_y\d{4}m\d{2}|messages_default|message_ids|message_external_ids)$/;

/**
 * Explains each statement (generic: as a prepared statement's generic plan, made from the tables'
 * statistics as they are now) and expects every read of a non-empty message table to be an index
 * scan. Returns the scans of each statement, by name, and every read that is not one.
 */
async function checkPlans(
  client: pg.Client,
  schema: string,
  list: [string, string, unknown[]][],
  generic: boolean,
): Promise<{ report: Record<string, string[]>; violations: string[] }> {
  const report: Record<string, string[]> = {};
  const violations: string[] = [];
  const empty = new Set(
    (
      await client.query(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = to_regclass($1) AND c.reltuples = 0`,
        [`"${schema}".messages`],
      )
    ).rows.map((row) => row.relname as string),
  );
  for (const [name, text, values] of list) {
    let plan: PlanNode;
    if (generic) {
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE explained AS ${text}`);
      // The values do not shape a generic plan; EXECUTE takes them as literals.
      const args = values.map(sqlLiteral).join(', ');
      plan = (await client.query(`EXPLAIN (FORMAT JSON) EXECUTE explained(${args})`)).rows[0]['QUERY PLAN'][0].Plan;
      await client.query('DEALLOCATE explained');
    } else {
      plan = (await client.query(`EXPLAIN (FORMAT JSON) ${text}`, values)).rows[0]['QUERY PLAN'][0].Plan;
    }
    const all = nodes(plan);
    // Reads of a message table (the tables an append writes are its targets, not scans).
    const scans = all.filter(
      (node) =>
        node['Node Type'] !== 'ModifyTable' &&
        node['Relation Name'] !== undefined &&
        MESSAGE_TABLES.test(node['Relation Name']),
    );
    report[name] = all
      .filter((node) => node['Index Name'] !== undefined || node['Relation Name'] !== undefined)
      .map((node) => `${node['Node Type']} ${node['Index Name'] ?? node['Relation Name']}`);
    if (scans.length === 0) violations.push(`${name}: reads no message table`);
    for (const scan of scans) {
      // An empty partition (premade for the coming months) is read in no time whatever the plan.
      if (scan['Node Type'] === 'Seq Scan' && empty.has(scan['Relation Name'] as string)) continue;
      if (!/^(Index Scan|Index Only Scan|Bitmap Heap Scan)$/.test(scan['Node Type'])) {
        violations.push(`${name}: ${scan['Node Type']} ${scan['Relation Name']} (${report[name]?.join(', ')})`);
      }
    }
    for (const bitmap of all.filter((node) => node['Node Type'] === 'Bitmap Heap Scan')) {
      if (!nodes(bitmap).some((node) => node['Node Type'] === 'Bitmap Index Scan')) {
        violations.push(`${name}: a bitmap heap scan without an index`);
      }
    }
  }
  return { report, violations };
}

describe.each(['none', 'monthly'] as const)('query plans on 120,000 messages (partitioning %s)', (partitioning) => {
  const schema = testSchemaName();
  let backend: PostgresBackend;
  let sql: PgSql;

  beforeAll(async () => {
    backend = await postgresBackend({ url: POSTGRES_URL, schema, partitioning, poolSize: 2 });
    sql = pgSql(backend.layout);
    await withAdmin((client) => fill(client, schema));
  }, 300_000);

  afterAll(async () => {
    await backend?.close();
    await dropSchema(schema);
  });

  test('the fill is what the plans are about', async () => {
    const count = await withAdmin(
      async (client) => (await client.query(`SELECT count(*)::int AS n FROM "${schema}".messages`)).rows[0].n,
    );
    expect(count).toBe(MESSAGES);
  });

  for (const generic of [false, true]) {
    test(`${generic ? 'generic' : 'custom'} plans: every read is an index scan, no sequential scan of a message table`, async () => {
      const { report, violations } = await withAdmin((client) => checkPlans(client, schema, statements(sql), generic));
      expect(violations).toEqual([]);
      if (partitioning === 'none') {
        const uses = (name: string) => report[name]?.join(', ') ?? '';
        expect(uses('recent')).toContain('messages_pkey');
        expect(uses('by sender')).toContain('messages_by_sender');
        expect(uses('failed')).toContain('messages_failed');
        expect(uses('with media')).toMatch(/messages_with_media|messages_pkey/);
        expect(uses('replies')).toContain('messages_replies');
        expect(uses('by metadata')).toContain('messages_metadata');
        expect(uses('get by external id, any conversation')).toContain('messages_by_external_id');
      }
      // An append checks its externalIds on their own key, never by scanning the conversation.
      expect(report['append (its duplicate check)']?.join(', ')).toMatch(
        partitioning === 'none' ? /Index Only Scan messages_by_external_id/ : /message_external_ids_pkey/,
      );
    });
  }

  test('recent reads a few buffers, however long the conversation is', async () => {
    const range = sql.range({ order: 'desc', includeDeleted: false, from: false, to: false }).text;
    const buffers = await withAdmin(async (client) => {
      const explain = async (conversationId: string) => {
        const [result] = (
          await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${range}`, [
            conversationId,
            0,
            Number.MAX_SAFE_INTEGER,
            20,
          ])
        ).rows[0]['QUERY PLAN'];
        return {
          rows: result.Plan['Actual Rows'] as number,
          buffers: result.Plan['Shared Hit Blocks'] + result.Plan['Shared Read Blocks'],
        };
      };
      return { big: await explain(BIG), small: await explain('conv-7') };
    });
    expect(buffers.big.rows).toBe(20);
    expect(buffers.small.rows).toBe(20);
    // 20 rows of a 50,000-message conversation cost about what they cost in a 100-message one.
    expect(buffers.big.buffers).toBeLessThan(buffers.small.buffers * 3 + 20);
  });
});

// A prepared statement keeps the generic plan it made from the table sizes of its day until something
// invalidates it (an ANALYZE, a schema change). A plan made while the tables held a few hundred rows
// reads them whole; the backend remakes its plans as the tables grow (plan-freshness.ts), so that
// such a plan does not go on reading millions of rows on every call.
describe.each(['none', 'monthly'] as const)(
  'plans made while the tables were small are remade as they grow (partitioning %s)',
  (partitioning) => {
    const schema = testSchemaName();
    let pool: pg.Pool;
    let backend: PostgresBackend;
    let store: ChatStore;

    beforeAll(async () => {
      // One connection: the backend's prepared statements and their cached plans are the ones explained.
      pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
      backend = await postgresBackend({ pool, schema, partitioning });
      store = new ChatStore(backend);
    });

    afterAll(async () => {
      await backend?.close();
      await pool?.end();
      await dropSchema(schema);
    });

    /** The plan the backend's prepared statement for `text` runs with now, as "node relation" lines. */
    const planOf = async (text: string, args: string): Promise<string[]> => {
      const client = await pool.connect();
      try {
        const prepared = await client.query('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text]);
        const name = prepared.rows[0]?.name as string | undefined;
        expect(name, 'the statement is prepared on the connection').toBeDefined();
        const explained = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}(${args})`);
        return nodes(explained.rows[0]['QUERY PLAN'][0].Plan).map(
          (node) => `${node['Node Type']} ${node['Index Name'] ?? node['Relation Name'] ?? ''}`,
        );
      } finally {
        client.release();
      }
    };

    const lookUp = async (ids: string[]) => {
      for (const id of ids) expect((await store.get(id))?.id).toBe(id);
    };

    test('a lookup by id planned at 300 messages is an index scan at 3,300', async () => {
      const sql = pgSql(backend.layout);
      const ids: string[] = [];
      const messages = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          role: 'user' as const,
          content: `order word${i} text`,
          externalId: `${prefix}.${i}`,
        }));
      for (let c = 0; c < 3; c++) {
        for (const { message } of await store.append(`small-${c}`, messages(`small-${c}`, 100))) ids.push(message.id);
      }
      await withAdmin(async (client) => {
        const tables = await client.query('SELECT tablename FROM pg_tables WHERE schemaname = $1', [schema]);
        for (const { tablename } of tables.rows) await client.query(`ANALYZE "${schema}"."${tablename}"`);
      });
      // Past the five custom plans: the statement now runs with its generic plan.
      await lookUp(ids.slice(0, 10));
      // The trap is set: at this size the cached plan reads message_ids whole.
      expect(await planOf(sql.message, `'${ids[0]}'`)).toContain('Seq Scan message_ids');

      for (let batch = 0; batch < 6; batch++) await store.append(`grown-${batch}`, messages(`grown-${batch}`, 500));
      await lookUp(ids.slice(0, 10));
      const plan = await planOf(sql.message, `'${ids[0]}'`);
      expect(plan).not.toContain('Seq Scan message_ids');
      expect(plan.some((line) => /^Index (Only )?Scan message_ids/.test(line))).toBe(true);
    });
  },
);
