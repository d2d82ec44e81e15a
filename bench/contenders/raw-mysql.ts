/**
 * The floor: `mysql2` on the same server with the minimal well-indexed table of the foundation
 * issue (InnoDB, `(conversation_id, seq)` the clustered key), one autocommit INSERT per message and
 * a keyset SELECT for reads. Nothing can store and read messages on MySQL in fewer steps;
 * chatstore's overhead is measured against it. Concurrent writers of one conversation compute the
 * same next seq: the loser's INSERT fails on the primary key (or is a deadlock victim) and is
 * retried, as any application with this table must. Reads parse the stored JSON.
 */
import type { Pool } from 'mysql2/promise';
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';
import {
  benchDatabase,
  connectionOptions,
  dropsDatabaseOnClose,
  type MysqlDurability,
  mysqlFootprint,
} from './_mysql.js';

/** Connections of the floor's pool: as many as chatstore's default pool. */
const POOL_SIZE = 10;

/**
 * @example const floor = rawMysqlContender(probeMysqlDurability());
 */
export function rawMysqlContender(durability: MysqlDurability, extra: Partial<Contender> = {}): Contender {
  return dropsDatabaseOnClose({
    name: 'raw mysql2',
    kind: 'raw',
    engine: 'mysql',
    durabilityLabel: durability.label,
    durability: durability.sentence,
    notRun: { W5: { status: 'n/a', reason: 'the minimal table has no full-text index' } },
    ...extra,
    async open(workspace): Promise<ContenderInstance> {
      const mysql = await import('mysql2/promise');
      const database = `\`${benchDatabase(workspace)}\``;
      const pool: Pool = mysql.createPool({ ...connectionOptions(), charset: 'utf8mb4', connectionLimit: POOL_SIZE });
      await pool.query(`CREATE DATABASE IF NOT EXISTS ${database} CHARACTER SET utf8mb4`);
      await pool.query(`CREATE TABLE IF NOT EXISTS ${database}.messages (
        conversation_id VARCHAR(255) NOT NULL,
        seq BIGINT NOT NULL,
        body LONGTEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq)
      ) ENGINE=InnoDB`);
      // One statement per message: the seq is computed inside the INSERT from the primary key.
      const insert = `INSERT INTO ${database}.messages (conversation_id, seq, body)
        SELECT ?, COALESCE(MAX(seq), 0) + 1, ? FROM ${database}.messages WHERE conversation_id = ?`;
      const insertBatch = `INSERT INTO ${database}.messages (conversation_id, seq, body)
        SELECT ?, last.seq + batch.n, batch.body
        FROM (SELECT COALESCE(MAX(seq), 0) AS seq FROM ${database}.messages WHERE conversation_id = ?) last,
          JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, body LONGTEXT CHARACTER SET utf8mb4 PATH '$')) batch`;
      const newest = `SELECT seq, body FROM ${database}.messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?`;
      const before = `SELECT seq, body FROM ${database}.messages WHERE conversation_id = ? AND seq < ?
        ORDER BY seq DESC LIMIT ?`;
      const all = `SELECT seq, body FROM ${database}.messages WHERE conversation_id = ? ORDER BY seq`;
      const parse = (rows: unknown): ReadMessage[] =>
        (rows as { seq: number; body: string }[]).map((row) => ({ ...JSON.parse(row.body), seq: Number(row.seq) }));
      /** Runs an insert, again while another writer took the same seq first (duplicate key or deadlock). */
      const retrying = async (run: () => Promise<unknown>): Promise<void> => {
        for (;;) {
          try {
            await run();
            return;
          } catch (error) {
            const code = (error as { code?: string }).code;
            if (code !== 'ER_DUP_ENTRY' && code !== 'ER_LOCK_DEADLOCK') throw error;
          }
        }
      };

      return {
        async append(conversationId, message) {
          await retrying(() => pool.execute(insert, [conversationId, JSON.stringify(message), conversationId]));
        },
        async appendBatch(conversationId, messages: NewMessage[]) {
          const bodies = JSON.stringify(messages.map((message) => JSON.stringify(message)));
          await retrying(() => pool.execute(insertBatch, [conversationId, conversationId, bodies]));
        },
        async lastN(conversationId, n) {
          return parse((await pool.execute(newest, [conversationId, n]))[0]).reverse();
        },
        async pageBack(conversationId, cursor, n) {
          const messages = parse(
            typeof cursor === 'number'
              ? (await pool.execute(before, [conversationId, cursor, n]))[0]
              : (await pool.execute(newest, [conversationId, n]))[0],
          );
          const last = messages[messages.length - 1];
          return last === undefined || messages.length < n || last.seq <= 1
            ? { messages }
            : { messages, next: last.seq };
        },
        async readAll(conversationId) {
          return parse((await pool.execute(all, [conversationId]))[0]);
        },
        footprint: () => mysqlFootprint(benchDatabase(workspace)),
        async close() {
          await pool.end();
        },
      };
    },
  });
}
