/**
 * What the engines that compact (`Backend.compact`) share: running the compaction of a removal that
 * has committed, so that a failure says the removal stands and how to finish the job.
 */
import { ChatStoreError } from '../errors.js';

/**
 * Runs `compact` after a removal that has committed and resolves to the removal's result. When the
 * compaction fails, the removal is not undone: the error (same code, the cause kept) says so and
 * points to `compact()` / `chatstore compact`, which rewrites everything and finishes the job.
 * @example return compactAfter(removed, () => compactTables(ctx, parts));
 */
export async function compactAfter<T>(removed: T, compact: () => Promise<unknown>): Promise<T> {
  try {
    await compact();
  } catch (error) {
    if (!(error instanceof ChatStoreError)) throw error;
    throw new ChatStoreError(
      error.code,
      `the removal is committed, but rewriting the storage afterwards failed, so the removed bytes may still be in the engine's files; run compact() (chatstore compact) to finish: ${error.message}`,
      { cause: error },
    );
  }
  return removed;
}

/** Milliseconds since `start` (a `performance.now()`), rounded. */
export function elapsedMs(start: number): number {
  return Math.round(performance.now() - start);
}
