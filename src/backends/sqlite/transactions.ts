/**
 * How the sqlite backend runs statements. Reads run at once (better-sqlite3 is synchronous). Writes
 * made in the same event-loop turn share one `BEGIN IMMEDIATE` transaction (group commit), so N
 * concurrent appends cost one fsync instead of N, while each call still succeeds or fails on its own
 * (one SAVEPOINT per call).
 */
import type Database from 'better-sqlite3';
import { ChatStoreError } from '../../errors.js';
import type { SqliteLifecycle, SqliteTransactions } from './context.js';
import { toChatStoreError } from './errors.js';

/** A write waiting for the next group commit. */
interface WriteJob {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The reads and the group-committed writes of one connection. */
export function transactions(db: Database.Database, lifecycle: SqliteLifecycle): SqliteTransactions {
  let queue: WriteJob[] = [];
  let flushScheduled: NodeJS.Immediate | undefined;

  const ensureOpen = (): void => {
    if (lifecycle.closed) throw new ChatStoreError('UNAVAILABLE', 'the sqlite backend is closed');
  };

  const read = <T>(body: () => T): T => {
    ensureOpen();
    try {
      return body();
    } catch (error) {
      throw toChatStoreError(error);
    }
  };

  // Reads of several statements see one snapshot, even while other processes commit.
  const inSnapshot = db.transaction((body: () => unknown) => body());

  // Called inside the batch transaction, better-sqlite3 runs this one as a SAVEPOINT: a call that
  // throws is rolled back alone.
  const inSavepoint = db.transaction((body: () => unknown) => body());
  const inBatch = db.transaction((jobs: WriteJob[], outcomes: Outcome[]) => {
    for (const job of jobs) {
      try {
        outcomes.push({ ok: true, value: inSavepoint(job.run) });
      } catch (error) {
        // An I/O error or a full disk makes SQLite roll back the whole transaction: nothing of the
        // batch is stored, so every call of it must fail.
        if (!db.inTransaction) throw error;
        outcomes.push({ ok: false, error });
      }
    }
  });

  /** Runs every queued write in one BEGIN IMMEDIATE transaction; settles their promises after COMMIT. */
  const flush = (): void => {
    flushScheduled = undefined;
    const jobs = queue;
    queue = [];
    if (jobs.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      inBatch.immediate(jobs, outcomes);
    } catch (error) {
      const failure = toChatStoreError(error);
      for (const job of jobs) job.reject(failure);
      return;
    }
    jobs.forEach((job, index) => {
      const outcome = outcomes[index] as Outcome;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(toChatStoreError(outcome.error));
    });
  };

  return {
    read,
    snapshot: <T>(body: () => T): T => read(() => inSnapshot(body) as T),
    write: <T>(run: () => T): Promise<T> => {
      ensureOpen();
      return new Promise<T>((resolve, reject) => {
        queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
        flushScheduled ??= setImmediate(flush);
      });
    },
    commitQueued: (): void => {
      if (flushScheduled === undefined) return;
      clearImmediate(flushScheduled);
      flush();
    },
  };
}
