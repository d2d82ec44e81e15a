/**
 * The one optimistic update loop for engines that change a record by reading it, computing the new
 * value in JavaScript (status rules, merge patches) and writing it only if the record is unchanged
 * since the read (a row version, a compare-and-set script). When another writer got in between, the
 * step runs again on the fresh value; after a bounded number of attempts the caller gets `CONFLICT`:
 * the engine is reachable and healthy, the record is just too contended, so retrying later is right.
 * `UNAVAILABLE` is kept for an engine that cannot be reached.
 */
import { ChatStoreError } from '../errors.js';

/** What a step returns when its write lost the race and it must read again. */
export const CHANGED: unique symbol = Symbol('changed');

/** Attempts before giving up; each lost attempt means another writer committed, so progress is global. */
export const OPTIMISTIC_ATTEMPTS = 20;

/**
 * Runs `step` until it returns anything but `CHANGED`. `what` names the record in the error
 * (`message m1`, `conversation c1`).
 */
export async function untilUnchanged<T>(what: string, step: () => Promise<T | typeof CHANGED>): Promise<T> {
  for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
    const outcome = await step();
    if (outcome !== CHANGED) return outcome;
  }
  throw new ChatStoreError('CONFLICT', `${what} kept changing; gave up after ${OPTIMISTIC_ATTEMPTS} attempts`);
}
