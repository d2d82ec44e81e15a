/**
 * Applies the migrations of `schema.ts` at open under a named lock (`GET_LOCK`), so that concurrent
 * openers create or upgrade a database once. `chatstore_schema` records the version and what the
 * layout was made with (collation, FULLTEXT token sizes); a later open keeps that layout. DDL commits
 * implicitly in MySQL, so the version is written after the statements of a migration succeed.
 */
import { createHash } from 'node:crypto';
import { ChatStoreError } from '../../errors.js';
import { COLLATIONS, ident, MYSQL_MIGRATIONS, type MysqlLayout } from './schema.js';
import type { TokenLimits } from './search.js';

/** A database's recorded state. */
export interface MysqlSchemaState {
  version: number;
  layout: MysqlLayout;
}

/** What opening would do or did: the statements of the missing migrations. */
export interface MysqlMigrationPlan {
  database: string;
  from: number;
  to: number;
  layout: MysqlLayout;
  /** Every statement, in order, the version bookkeeping included; empty when up to date. */
  statements: string[];
}

/** The part of a mysql2 connection the migration uses: `execute` for parameterized reads, `query` for DDL (which cannot be prepared). */
export interface MysqlQueryable {
  execute(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
  query(sql: string): Promise<[unknown, unknown]>;
}

const LOCK_TIMEOUT_SECONDS = 60;

/**
 * Plans and applies the missing migrations under the database's named lock; with `dryRun`, plans
 * only and changes nothing. Throws `UNSUPPORTED` when a newer release wrote the database or when
 * the server's FULLTEXT token sizes no longer fit the ones it was created with.
 */
export async function migrate(
  connection: MysqlQueryable,
  database: string,
  options: { dryRun?: boolean } = {},
): Promise<MysqlMigrationPlan> {
  // A lock name is at most 64 characters: the database name is hashed into it.
  const lock = `chatstore_schema_${createHash('sha1').update(database).digest('hex').slice(0, 32)}`;
  const [acquired] = (await connection.execute('SELECT GET_LOCK(?, ?) AS acquired', [lock, LOCK_TIMEOUT_SECONDS])) as [
    { acquired: number | null }[],
    unknown,
  ];
  if (acquired[0]?.acquired !== 1) {
    throw new ChatStoreError('UNAVAILABLE', `mysql: timed out waiting for the schema lock of ${database}`);
  }
  try {
    const plan = await planMigrations(connection, database);
    if (options.dryRun !== true) for (const statement of plan.statements) await connection.query(statement);
    return plan;
  } finally {
    await connection.execute('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
  }
}

async function planMigrations(connection: MysqlQueryable, database: string): Promise<MysqlMigrationPlan> {
  const d = ident(database);
  const exists =
    (await rows(connection, 'SELECT 1 AS present FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]))
      .length > 0;
  const stored = exists ? await readSchemaState(connection, database) : undefined;
  const to = MYSQL_MIGRATIONS.length;
  if (stored !== undefined && stored.version > to) {
    throw new ChatStoreError(
      'UNSUPPORTED',
      `mysql database ${database} has schema version ${stored.version}; this release of chatstore knows up to ${to}: upgrade chatstore`,
    );
  }
  const server = await serverTokens(connection);
  const layout = stored?.layout ?? { database, collation: await pickCollation(connection), tokens: server };
  if (server.min > layout.tokens.min || server.max < layout.tokens.max) {
    throw new ChatStoreError(
      'UNSUPPORTED',
      `mysql database ${database} was created with innodb_ft_min_token_size=${layout.tokens.min} and innodb_ft_max_token_size=${layout.tokens.max}; the server now has ${server.min} and ${server.max}, so search would miss words: restore the settings`,
    );
  }
  const from = stored?.version ?? 0;
  if (from === to) return { database, from, to, layout, statements: [] };

  const statements: string[] = [];
  if (!exists) statements.push(`CREATE DATABASE ${d} CHARACTER SET utf8mb4 COLLATE ${layout.collation}`);
  if (stored === undefined) {
    statements.push(`CREATE TABLE ${d}.chatstore_schema (
  version INT NOT NULL,
  collation_name VARCHAR(64) NOT NULL,
  ft_min_token_size INT NOT NULL,
  ft_max_token_size INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${layout.collation}`);
  }
  for (const migration of MYSQL_MIGRATIONS.slice(from)) statements.push(...migration(layout));
  statements.push(
    stored === undefined
      ? `INSERT INTO ${d}.chatstore_schema (version, collation_name, ft_min_token_size, ft_max_token_size)
VALUES (${to}, '${layout.collation}', ${layout.tokens.min}, ${layout.tokens.max})`
      : `UPDATE ${d}.chatstore_schema SET version = ${to}`,
  );
  return { database, from, to, layout, statements };
}

async function rows(
  connection: MysqlQueryable,
  sql: string,
  values: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const [result] = await connection.execute(sql, values);
  return result as Record<string, unknown>[];
}

async function readSchemaState(connection: MysqlQueryable, database: string): Promise<MysqlSchemaState | undefined> {
  const present = await rows(
    connection,
    "SELECT 1 AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'chatstore_schema'",
    [database],
  );
  if (present.length === 0) return undefined;
  const [row] = await rows(
    connection,
    `SELECT version, collation_name, ft_min_token_size, ft_max_token_size FROM ${ident(database)}.chatstore_schema`,
  );
  if (row === undefined) return undefined;
  return {
    version: Number(row.version),
    layout: {
      database,
      collation: String(row.collation_name),
      tokens: { min: Number(row.ft_min_token_size), max: Number(row.ft_max_token_size) },
    },
  };
}

async function serverTokens(connection: MysqlQueryable): Promise<TokenLimits> {
  const [row] = await rows(
    connection,
    'SELECT @@innodb_ft_min_token_size AS min_size, @@innodb_ft_max_token_size AS max_size',
  );
  return { min: Number(row?.min_size), max: Number(row?.max_size) };
}

async function pickCollation(connection: MysqlQueryable): Promise<string> {
  const found = new Set(
    (
      await rows(
        connection,
        'SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (?, ?)',
        [...COLLATIONS],
      )
    ).map((row) => String(row.name)),
  );
  const collation = COLLATIONS.find((name) => found.has(name));
  if (collation === undefined) {
    throw new ChatStoreError(
      'UNSUPPORTED',
      `mysql: the server has none of the collations ${COLLATIONS.join(', ')} (MariaDB 10.6+ or MySQL 8.0+ needed)`,
    );
  }
  return collation;
}
