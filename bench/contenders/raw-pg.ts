/**
 * The floor: `pg` on the same server with the minimal well-indexed table of the foundation issue,
 * one autocommit INSERT per message and a keyset SELECT for reads. Nothing can store and read
 * messages on PostgreSQL in fewer steps; chatstore's overhead is measured against it. Concurrent
 * writers of one conversation compute the same next seq: the loser's INSERT fails on the primary
 * key and is retried, as any application with this table must. Reads parse the stored JSON.
 */
import type pg from 'pg';
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';
import { benchSchema, dropsSchemaOnClose, POSTGRES_URL, pgFootprint } from './_pg.js';
import type { ServerDurability } from './_probe.js';

/** Connections of the floor's pool: as many as chatstore's default pool. */
const POOL_SIZE = 10;

/**
 * @example const floor = rawPgContender(probePgDurability());
 */
export function rawPgContender(durability: ServerDurability, extra: Partial<Contender> = {}): Contender {
  return dropsSchemaOnClose({
    name: 'raw pg',
    kind: 'raw',
    engine: 'postgres',
    durabilityLabel: durability.label,
    durability: durability.sentence,
    notRun: { W5: { status: 'n/a', reason: 'the minimal table has no full-text index' } },
    ...extra,
    async open(workspace): Promise<ContenderInstance> {
      const { default: driver } = await import('pg');
      const schema = `"${benchSchema(workspace)}"`;
      const pool: pg.Pool = new driver.Pool({ connectionString: POSTGRES_URL, max: POOL_SIZE });
      pool.on('error', () => undefined);
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pool.query(`CREATE TABLE IF NOT EXISTS ${schema}.messages (
        conversation_id text COLLATE "C",
        seq bigint,
        body text,
        PRIMARY KEY (conversation_id, seq)
      )`);
      // One statement per message: the seq is computed inside the INSERT from the primary key.
      const insert = {
        name: 'raw_insert',
        text: `INSERT INTO ${schema}.messages (conversation_id, seq, body)
          VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ${schema}.messages WHERE conversation_id = $1), $2)`,
      };
      const insertBatch = `INSERT INTO ${schema}.messages (conversation_id, seq, body)
        SELECT $1, last.seq + batch.n, batch.body
        FROM (SELECT COALESCE(MAX(seq), 0) AS seq FROM ${schema}.messages WHERE conversation_id = $1) last,
          unnest($2::text[]) WITH ORDINALITY AS batch(body, n)`;
      const newest = {
        name: 'raw_newest',
        text: `SELECT seq, body FROM ${schema}.messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2`,
      };
      const before = {
        name: 'raw_before',
        text: `SELECT seq, body FROM ${schema}.messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`,
      };
      const all = `SELECT seq, body FROM ${schema}.messages WHERE conversation_id = $1 ORDER BY seq`;
      const parse = (rows: { seq: string; body: string }[]): ReadMessage[] =>
        rows.map((row) => ({ ...JSON.parse(row.body), seq: Number(row.seq) }));
      /** Runs an insert, again while another writer took the same seq first (unique violation). */
      const retrying = async (run: () => Promise<unknown>): Promise<void> => {
        for (;;) {
          try {
            await run();
            return;
          } catch (error) {
            if ((error as { code?: string }).code !== '23505') throw error;
          }
        }
      };

      return {
        async append(conversationId, message) {
          await retrying(() => pool.query({ ...insert, values: [conversationId, JSON.stringify(message)] }));
        },
        async appendBatch(conversationId, messages: NewMessage[]) {
          await retrying(() =>
            pool.query(insertBatch, [conversationId, messages.map((message) => JSON.stringify(message))]),
          );
        },
        async lastN(conversationId, n) {
          return parse((await pool.query({ ...newest, values: [conversationId, n] })).rows).reverse();
        },
        async pageBack(conversationId, cursor, n) {
          const messages = parse(
            typeof cursor === 'number'
              ? (await pool.query({ ...before, values: [conversationId, cursor, n] })).rows
              : (await pool.query({ ...newest, values: [conversationId, n] })).rows,
          );
          const last = messages[messages.length - 1];
          return last === undefined || messages.length < n || last.seq <= 1
            ? { messages }
            : { messages, next: last.seq };
        },
        async readAll(conversationId) {
          return parse((await pool.query(all, [conversationId])).rows);
        },
        footprint: () =>
          pgFootprint(benchSchema(workspace), () =>
            Promise.all(Array.from({ length: POOL_SIZE }, () => pool.query('SELECT 1'))),
          ),
        async close() {
          await pool.end();
        },
      };
    },
  });
}

/**
 * The floor of plain inserts: the same table keyed by a `bigserial` instead of a seq, so concurrent
 * writers of one conversation never collide and never wait for each other, and nothing is ordered
 * per conversation or idempotent. Only for the writes (W1, W2): what the write-path issue compares
 * chatstore's one-conversation W2 with.
 * @example const floor = rawPgPlainInsertContender(probePgDurability());
 */
export function rawPgPlainInsertContender(durability: ServerDurability): Contender {
  const writesOnly = { status: 'skipped' as const, reason: 'a floor for the writes only (W1, W2)' };
  return dropsSchemaOnClose({
    name: 'raw pg, no seq',
    kind: 'raw',
    engine: 'postgres',
    durabilityLabel: durability.label,
    durability: durability.sentence,
    notRun: Object.fromEntries(['W3', 'W4', 'W5', 'W6', 'W1L', 'W7', 'http'].map((id) => [id, writesOnly])),
    async open(workspace): Promise<ContenderInstance> {
      const { default: driver } = await import('pg');
      const schema = `"${benchSchema(workspace)}"`;
      const pool: pg.Pool = new driver.Pool({ connectionString: POSTGRES_URL, max: POOL_SIZE });
      pool.on('error', () => undefined);
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pool.query(`CREATE TABLE IF NOT EXISTS ${schema}.messages (
        id bigserial PRIMARY KEY,
        conversation_id text COLLATE "C" NOT NULL,
        body text NOT NULL
      )`);
      await pool.query(
        `CREATE INDEX IF NOT EXISTS messages_by_conversation ON ${schema}.messages (conversation_id, id)`,
      );
      const insert = {
        name: 'raw_plain_insert',
        text: `INSERT INTO ${schema}.messages (conversation_id, body) VALUES ($1, $2)`,
      };
      const insertBatch = `INSERT INTO ${schema}.messages (conversation_id, body) SELECT $1, unnest($2::text[])`;
      const newest = `SELECT id, body FROM ${schema}.messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2`;
      const all = `SELECT id, body FROM ${schema}.messages WHERE conversation_id = $1 ORDER BY id`;
      const parse = (rows: { id: string; body: string }[]): ReadMessage[] =>
        rows.map((row, index) => ({ ...JSON.parse(row.body), seq: index + 1 }));
      return {
        async append(conversationId, message) {
          await pool.query({ ...insert, values: [conversationId, JSON.stringify(message)] });
        },
        async appendBatch(conversationId, messages: NewMessage[]) {
          await pool.query(insertBatch, [conversationId, messages.map((message) => JSON.stringify(message))]);
        },
        async lastN(conversationId, n) {
          return parse((await pool.query(newest, [conversationId, n])).rows).reverse();
        },
        async pageBack(conversationId, _cursor, n) {
          return { messages: parse((await pool.query(newest, [conversationId, n])).rows) };
        },
        async readAll(conversationId) {
          return parse((await pool.query(all, [conversationId])).rows);
        },
        async close() {
          await pool.end();
        },
      };
    },
  });
}
