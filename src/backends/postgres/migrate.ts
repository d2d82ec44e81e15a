/**
 * Applying the migrations of `schema.ts`: in one transaction holding a transaction-scoped advisory
 * lock on the schema, so that concurrent openers create or upgrade a schema once; the layout stored
 * at creation wins over a later opener's request (a contradicting request is an error).
 */
import { ChatStoreError } from '../../errors.js';
import { searchText } from '../sql/rows.js';
import {
  ident,
  literal,
  literalSearch,
  MAX_POSITIONS,
  PG_MIGRATIONS,
  type PgLayout,
  type PgMigrationContext,
  searchLengthSql,
} from './schema.js';
import { pgTextSearch } from './text-search.js';
import type { PgQueryable } from './transaction.js';

/** A schema's recorded state. */
export interface PgSchemaState {
  version: number;
  layout: PgLayout;
}

/** What opening (or `chatstore schema`) would do or did: the statements of the missing migrations. */
export interface PgMigrationPlan {
  schema: string;
  from: number;
  to: number;
  layout: PgLayout;
  /** Every statement, in order, the version bookkeeping included; empty when up to date. */
  statements: string[];
}

/** The layout an opener asks for; unset fields take the stored layout (or the default for a new schema). */
export interface PgLayoutRequest {
  schema: string;
  partitioning?: 'none' | 'monthly';
  textSearchConfig?: string;
}

// Two-key advisory locks: this namespace ('chst') and a hash of the schema name.
const LOCK_NAMESPACE = 0x63687374;

/**
 * Takes the schema's migration lock for the current transaction.
 */
export async function lockSchema(client: PgQueryable, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, schema]);
}

/**
 * Inside a transaction holding the schema lock: what the schema is at, and the statements that
 * bring it to the latest version with the layout asked for. Throws `INVALID_ARGUMENT` when the
 * request contradicts the stored layout and `UNSUPPORTED` when a newer release wrote the schema.
 */
export async function planMigrations(client: PgQueryable, request: PgLayoutRequest): Promise<PgMigrationPlan> {
  const s = ident(request.schema);
  const stored = await readSchemaState(client, request.schema);
  if (stored !== undefined && stored.version > PG_MIGRATIONS.length) {
    throw new ChatStoreError(
      'UNSUPPORTED',
      `postgres schema ${request.schema} has version ${stored.version}; this release of chatstore knows up to ${PG_MIGRATIONS.length}: upgrade chatstore`,
    );
  }
  const partman = await partmanInstall(client);
  const layout = stored?.layout ?? {
    schema: request.schema,
    partitioning: request.partitioning ?? 'none',
    textSearchConfig: request.textSearchConfig ?? 'simple',
    partitionManager:
      (request.partitioning ?? 'none') === 'none' ? 'none' : partman === undefined ? 'chatstore' : 'pg_partman',
  };
  if (request.partitioning !== undefined && request.partitioning !== layout.partitioning) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `postgres schema ${request.schema} was created with partitioning '${layout.partitioning}', not '${request.partitioning}'; a layout is chosen when the schema is created`,
      { path: 'partitioning' },
    );
  }
  if (request.textSearchConfig !== undefined && request.textSearchConfig !== layout.textSearchConfig) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `postgres schema ${request.schema} was created with text search configuration '${layout.textSearchConfig}', not '${request.textSearchConfig}'`,
      { path: 'textSearchConfig' },
    );
  }
  if (stored === undefined) await checkTextSearchConfig(client, layout.textSearchConfig);
  const from = stored?.version ?? 0;
  const to = PG_MIGRATIONS.length;
  if (from === to) return { schema: request.schema, from, to, layout, statements: [] };

  const statements: string[] = [];
  if (stored === undefined) {
    statements.push(
      `CREATE SCHEMA IF NOT EXISTS ${s}`,
      `CREATE TABLE ${s}.chatstore_schema (
  version integer NOT NULL,
  partitioning text NOT NULL,
  text_search_config text NOT NULL,
  partition_manager text NOT NULL
)`,
    );
  }
  const context: PgMigrationContext = partman === undefined ? {} : { partman };
  for (const migration of PG_MIGRATIONS.slice(from)) statements.push(...migration(layout, context));
  statements.push(
    stored === undefined
      ? `INSERT INTO ${s}.chatstore_schema (version, partitioning, text_search_config, partition_manager)
VALUES (${to}, ${literal(layout.partitioning)}, ${literal(layout.textSearchConfig)}, ${literal(layout.partitionManager)})`
      : `UPDATE ${s}.chatstore_schema SET version = ${to}`,
  );
  return { schema: request.schema, from, to, layout, statements };
}

/**
 * Plans and applies the missing migrations in one transaction under the schema lock; with
 * `dryRun`, plans only and changes nothing.
 */
export async function migrate(
  client: PgQueryable,
  request: PgLayoutRequest,
  options: { dryRun?: boolean } = {},
): Promise<PgMigrationPlan> {
  await client.query('BEGIN');
  try {
    await lockSchema(client, request.schema);
    const plan = await planMigrations(client, request);
    if (options.dryRun === true || plan.statements.length === 0) {
      await client.query('ROLLBACK');
      return plan;
    }
    for (const statement of plan.statements) await client.query(statement);
    if (plan.from > 0 && plan.from < SPELLED_FREQUENCIES) await rebuildSearchWords(client, plan.layout);
    await client.query('COMMIT');
    return plan;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The version from which vectors hold every word and spell its frequency (migration 3 in `schema.ts`). */
const SPELLED_FREQUENCIES = 3;

/**
 * Part of migration 3, in JavaScript because it needs the store's word rule (`searchTerms`): writes
 * again the words of the messages whose vectors an older release could not write whole (a word
 * over 2,046 bytes left out; with the `simple` configuration, a word 255 times or more, or past the
 * 16,383rd word, counted short: an older release kept 256 positions per word, the parser 255), and
 * moves their conversations' `search_terms` by the difference. Only messages long enough for that
 * are looked at. Returns how many were written.
 */
export async function rebuildSearchWords(client: PgQueryable, layout: PgLayout): Promise<number> {
  const s = ident(layout.schema);
  const text = pgTextSearch(layout);
  const candidates = literalSearch(layout)
    ? `octet_length(m.content) > 2046 OR (octet_length(m.content) > 510
        AND EXISTS (SELECT 1 FROM unnest(m.search_vector) AS u WHERE cardinality(u.positions) >= ${MAX_POSITIONS - 1}))`
    : 'octet_length(m.content) > 2046';
  const batch = `SELECT m.conversation_id, m.seq, m.created_at::text AS created_at, m.content FROM ${s}.messages m
    WHERE (${candidates}) AND (m.conversation_id, m.seq) > ($1, $2)
    ORDER BY m.conversation_id, m.seq LIMIT 500`;
  const rewrite = `WITH old AS (
      SELECT ${searchLengthSql(layout, 'search_vector', 'search_length')} AS length FROM ${s}.messages
      WHERE conversation_id = $1 AND seq = $2 AND created_at = $3::timestamptz
    ), next AS (
      SELECT vector, ${text.length('vector')} AS length FROM (SELECT ${text.vector('$4::text')} AS vector) v
    ), updated AS (
      UPDATE ${s}.messages m SET search_vector = next.vector, search_length = next.length FROM next
      WHERE m.conversation_id = $1 AND m.seq = $2 AND m.created_at = $3::timestamptz
      RETURNING m.conversation_id
    )
    UPDATE ${s}.conversations c SET search_terms = c.search_terms - old.length + next.length
    FROM old, next, updated WHERE c.conversation_id = $1`;
  let after: [string, string] = ['', '0'];
  let written = 0;
  for (;;) {
    const { rows } = await client.query(batch, after);
    for (const row of rows) {
      await client.query(rewrite, [
        row.conversation_id,
        row.seq,
        row.created_at,
        text.vectorValue(searchText(String(row.content))),
      ]);
    }
    written += rows.length;
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < 500) return written;
    after = [String(last.conversation_id), String(last.seq)];
  }
}

async function readSchemaState(client: PgQueryable, schema: string): Promise<PgSchemaState | undefined> {
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [
    `${ident(schema)}.chatstore_schema`,
  ]);
  if (rows[0]?.present !== true) return undefined;
  const state = await client.query(
    `SELECT version, partitioning, text_search_config, partition_manager FROM ${ident(schema)}.chatstore_schema`,
  );
  const row = state.rows[0];
  if (row === undefined) return undefined;
  return {
    version: Number(row.version),
    layout: {
      schema,
      partitioning: row.partitioning as PgLayout['partitioning'],
      textSearchConfig: String(row.text_search_config),
      partitionManager: row.partition_manager as PgLayout['partitionManager'],
    },
  };
}

/** Where pg_partman is installed in this database, if it is. */
export async function partmanInstall(client: PgQueryable): Promise<{ schema: string; version: string } | undefined> {
  const { rows } = await client.query(
    `SELECT n.nspname AS schema, e.extversion AS version
     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman'`,
  );
  const row = rows[0];
  return row === undefined ? undefined : { schema: String(row.schema), version: String(row.version) };
}

async function checkTextSearchConfig(client: PgQueryable, config: string): Promise<void> {
  const [schema, name] = config.includes('.') ? config.split('.', 2) : [undefined, config];
  const { rows } = await client.query(
    `SELECT EXISTS (
       SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
       WHERE c.cfgname = $2 AND (n.nspname = $1 OR ($1 IS NULL AND n.oid = ANY (current_schemas(true)::regnamespace[])))
     ) AS known`,
    [schema ?? null, name],
  );
  if (rows[0]?.known !== true) {
    throw new ChatStoreError('INVALID_ARGUMENT', `postgres has no text search configuration '${config}'`, {
      path: 'textSearchConfig',
    });
  }
}
