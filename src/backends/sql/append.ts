/**
 * How the SQL backends (postgres, mysql) run an append: first the one-round-trip statement for the
 * plain case, then, when that cannot decide (a stored duplicate, a stale `expectedLastSeq`, a
 * duplicate or deadlock racing in), a transaction that locks the conversation's counter row and lets
 * `planAppend` decide, retried a bounded number of times while the race repeats.
 */
import type { AppendResult } from '../../model.js';

export interface SqlAppendSteps {
  /** The one-round-trip append; `undefined` (or a `retryable` error) when it cannot decide. Omit to go straight to the lock. */
  inOneTrip?: () => Promise<AppendResult[] | undefined>;
  /** The general path, in a transaction under the conversation's lock. */
  underLock: () => Promise<AppendResult[]>;
  /** Errors that mean "plan under the lock (again)": unique violations, deadlocks, a stale seq. */
  retryable: (error: unknown) => boolean;
  /** Attempts of the general path before its last error is reported. */
  attempts: number;
  /** The engine's error mapping (a ChatStoreError for what it knows). */
  toError: (error: unknown) => unknown;
}

export async function appendFastThenUnderLock(steps: SqlAppendSteps): Promise<AppendResult[]> {
  if (steps.inOneTrip !== undefined) {
    try {
      const appended = await steps.inOneTrip();
      if (appended !== undefined) return appended;
    } catch (error) {
      if (!steps.retryable(error)) throw steps.toError(error);
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await steps.underLock();
    } catch (error) {
      if (attempt < steps.attempts && steps.retryable(error)) continue;
      throw steps.toError(error);
    }
  }
}
