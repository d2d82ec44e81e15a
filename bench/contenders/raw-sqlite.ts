/**
 * The floor: better-sqlite3 on the same engine with the minimal well-indexed table of the
 * foundation issue, one autocommit INSERT per message and a keyset SELECT for reads. Nothing can
 * store and read messages on SQLite in fewer steps; chatstore's overhead is measured against it.
 * Reads parse the stored JSON, as any application using such a table has to.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';

/** @example rawSqliteContender('full') */
export type SqliteSynchronous = 'full' | 'normal';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT,
    seq INTEGER,
    body TEXT,
    PRIMARY KEY (conversation_id, seq)
  )`;

/** The durability sentence both chatstore and the floor print for a synchronous mode. */
export const SQLITE_DURABILITY: Readonly<Record<SqliteSynchronous, { label: string; sentence: string }>> = {
  full: {
    label: 'WAL FULL (fsync/commit)',
    sentence: 'WAL, synchronous=FULL: every commit is fsynced; an acknowledged message survives power loss',
  },
  normal: {
    label: 'WAL NORMAL (no fsync/commit)',
    sentence:
      'WAL, synchronous=NORMAL: survives a process crash; the last commits before a power loss may be lost (fsync at checkpoints only)',
  },
};

/**
 * @example const floor = rawSqliteContender('normal');
 */
export function rawSqliteContender(synchronous: SqliteSynchronous, extra: Partial<Contender> = {}): Contender {
  return {
    name: `raw better-sqlite3 ${synchronous.toUpperCase()}`,
    kind: 'raw',
    engine: 'sqlite',
    durabilityLabel: SQLITE_DURABILITY[synchronous].label,
    durability: SQLITE_DURABILITY[synchronous].sentence,
    notRun: { W5: { status: 'n/a', reason: 'the minimal table has no full-text index' } },
    ...extra,
    async open(workspace): Promise<ContenderInstance> {
      const { default: Database } = await import('better-sqlite3');
      const file = join(workspace.dir, 'raw.db');
      const db: BetterSqlite3.Database = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
      db.exec(SCHEMA);
      // One statement per message: the seq is computed inside the INSERT from the primary key.
      const insert = db.prepare(
        `INSERT INTO messages (conversation_id, seq, body)
         VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?), ?)`,
      );
      const lastSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM messages WHERE conversation_id = ?');
      const insertAt = db.prepare('INSERT INTO messages (conversation_id, seq, body) VALUES (?, ?, ?)');
      const newest = db.prepare('SELECT seq, body FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?');
      const before = db.prepare(
        'SELECT seq, body FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      );
      const all = db.prepare('SELECT seq, body FROM messages WHERE conversation_id = ? ORDER BY seq');
      const insertBatch = db.transaction((conversationId: string, messages: NewMessage[]) => {
        let seq = (lastSeq.get(conversationId) as { seq: number }).seq;
        for (const message of messages) insertAt.run(conversationId, ++seq, JSON.stringify(message));
      });
      const parse = (rows: unknown[]): ReadMessage[] =>
        (rows as { seq: number; body: string }[]).map((row) => ({ ...JSON.parse(row.body), seq: row.seq }));

      return {
        async append(conversationId, message) {
          insert.run(conversationId, conversationId, JSON.stringify(message));
        },
        async appendBatch(conversationId, messages) {
          insertBatch(conversationId, messages);
        },
        async lastN(conversationId, n) {
          return parse(newest.all(conversationId, n)).reverse();
        },
        async pageBack(conversationId, cursor, n) {
          const messages = parse(
            typeof cursor === 'number' ? before.all(conversationId, cursor, n) : newest.all(conversationId, n),
          );
          const last = messages[messages.length - 1];
          return last === undefined || messages.length < n || last.seq <= 1
            ? { messages }
            : { messages, next: last.seq };
        },
        async readAll(conversationId) {
          return parse(all.all(conversationId));
        },
        /** The same files chatstore's `storageBytes()` counts: the database, its WAL and shared-memory file. */
        async footprint() {
          const sizes = await Promise.all(
            [file, `${file}-wal`, `${file}-shm`].map((path) =>
              stat(path).then(
                (found) => found.size,
                () => 0,
              ),
            ),
          );
          return { bytes: sizes.reduce((sum, size) => sum + size, 0) };
        },
        async close() {
          db.close();
        },
      };
    },
  };
}
