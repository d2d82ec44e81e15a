/**
 * Erasures and hard deletes that leave none of the erased bytes in the database's files (see
 * docs/backends.md, "What an erasure leaves on disk"). In order:
 *
 * - inside the deleting transaction, `PRAGMA secure_delete = ON` (set at open, `connect.ts`) zeroes
 *   the deleted cells and every page freed, and FTS5 `secure-delete`, on an index that keeps its own
 *   copy of the terms (`schema.ts`, migration 2), rewrites the leaf pages that held the words
 *   instead of leaving a tombstone beside them;
 * - once that transaction has committed, the WAL is checkpointed into the file and truncated
 *   (`wal_checkpoint(TRUNCATE)`): its older frames still hold the pages as they were before the
 *   delete, and a checkpoint copies the newest ones, already zeroed, into the file;
 * - then the file is scanned for the erased strings outside its live data (`residue.ts`): copies of
 *   cells that b-tree rebalancing left in pages' unused space before the rows were erased. When one
 *   is found, `VACUUM` rewrites the whole file, and the WAL it filled is emptied again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { ChatStoreError } from '../../errors.js';
import { ftsMatch } from '../fts5.js';
import type { SqliteContext } from './context.js';
import { toChatStoreError } from './errors.js';
import { ErasedText, hasResidue } from './residue.js';

/** The longest pause between two checkpoint attempts while another connection holds a snapshot. */
const MAX_RETRY_PAUSE_MS = 50;
/** Beyond this many strings to look for, rewriting the file is cheaper than scanning it. */
const MAX_PATTERNS = 200_000;

const closedMidway = (): ChatStoreError =>
  new ChatStoreError('UNAVAILABLE', 'the sqlite backend was closed before the erased rows left its files');

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * The strings of erasures whose scrub has not completed (it failed), by connection: the next
 * erasure on that connection finishes them too.
 */
const unfinished = new WeakMap<Database.Database, Set<ErasedText>>();

/**
 * Runs `body` as a write of the group commit; `body` notes in the `ErasedText` it is given every
 * string of the rows it deletes, before deleting them. Resolves once none of those strings is left
 * in the file or its WAL outside live data.
 *
 * When the WAL cannot be emptied within the busy timeout (another connection keeps reading an older
 * snapshot, which still shows the erased rows), or `VACUUM` cannot take the write lock, it fails
 * with `UNAVAILABLE` although the delete has committed: the next erasure or hard delete on this
 * backend (calling it again, say: deletes are idempotent) finishes the job once that reader is done.
 */
export async function erasing<T>(ctx: SqliteContext, body: (erased: ErasedText) => T): Promise<T> {
  const erased = new ErasedText();
  const result = await ctx.write(() => body(erased));
  const pending = pendingOf(ctx);
  pending.add(erased);
  const covered = [...pending];
  await scrub(ctx, covered);
  for (const done of covered) pending.delete(done);
  return result;
}

/**
 * `erasing` without the scrub: the delete commits (secure_delete still zeroes the cells), and its
 * strings wait with the connection's unfinished ones for `finishErasures` (or the next `erasing`).
 */
export async function erasingLater<T>(ctx: SqliteContext, body: (erased: ErasedText) => T): Promise<T> {
  const erased = new ErasedText();
  const result = await ctx.write(() => body(erased));
  pendingOf(ctx).add(erased);
  return result;
}

/**
 * Scrubs what `erasingLater` left (and any scrub that failed); `thorough` rewrites the whole file
 * (`VACUUM`) and empties the WAL, for deletes whose strings this connection does not know.
 */
export async function finishErasures(ctx: SqliteContext, thorough: boolean): Promise<void> {
  const pending = pendingOf(ctx);
  const covered = [...pending];
  if (thorough && !ctx.db.memory) {
    await emptyWal(ctx);
    if (ctx.lifecycle.closed) throw closedMidway();
    try {
      ctx.db.exec('VACUUM');
    } catch (error) {
      throw toChatStoreError(error);
    }
    await emptyWal(ctx);
  } else {
    await scrub(ctx, covered);
  }
  for (const done of covered) pending.delete(done);
}

function pendingOf(ctx: SqliteContext): Set<ErasedText> {
  let pending = unfinished.get(ctx.db);
  if (pending === undefined) {
    pending = new Set();
    unfinished.set(ctx.db, pending);
  }
  return pending;
}

async function scrub(ctx: SqliteContext, erasures: ErasedText[]): Promise<void> {
  const { db } = ctx;
  if (db.memory) return;
  await emptyWal(ctx);
  // A term other messages still have is in the live data anyway: no need to look for it.
  const isLive = (term: string): boolean => ctx.read(() => ctx.sql.termIsIndexed.get(ftsMatch([term])) !== undefined);
  const patterns = erasures.flatMap((erased) => erased.patterns(isLive));
  if (patterns.length === 0) return;
  const residue = patterns.length > MAX_PATTERNS || (await hasResidue(db.name, patterns));
  if (!residue) return;
  if (ctx.lifecycle.closed) throw closedMidway();
  try {
    db.exec('VACUUM');
  } catch (error) {
    throw toChatStoreError(error);
  }
  await emptyWal(ctx);
}

/**
 * Checkpoints every WAL frame into the database file and truncates the WAL to zero bytes. A reader
 * of an older snapshot (another process in a read transaction) or a writer of another process keeps
 * it from completing: it tries again, pausing between attempts without blocking the event loop, for
 * as long as the connection's busy timeout.
 */
async function emptyWal({ db, lifecycle }: SqliteContext): Promise<void> {
  if (db.memory) return;
  const busyTimeoutMs = Number(db.pragma('busy_timeout', { simple: true }));
  const deadline = performance.now() + busyTimeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_RETRY_PAUSE_MS)) {
    if (lifecycle.closed) throw closedMidway();
    if (checkpointNow(db, busyTimeoutMs)) return;
    if (performance.now() >= deadline) {
      throw new ChatStoreError(
        'UNAVAILABLE',
        `the delete is committed, but the WAL still holds the erased rows' old pages: another connection kept reading an older snapshot for more than ${busyTimeoutMs} ms; call it again once that reader has finished`,
      );
    }
    await sleep(pause);
  }
}

/** One `wal_checkpoint(TRUNCATE)` that does not wait for locks; true when the WAL is now empty. */
function checkpointNow(db: SqliteContext['db'], busyTimeoutMs: number): boolean {
  // The waiting happens between attempts (see emptyWal), not inside SQLite's busy handler.
  db.pragma('busy_timeout = 0');
  try {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as CheckpointRow[];
    return row?.busy === 0;
  } catch (error) {
    throw toChatStoreError(error);
  } finally {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}
