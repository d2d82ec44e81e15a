/**
 * Keeps the plans of the backend's prepared statements fitted to the tables as they grow.
 *
 * PostgreSQL keeps a prepared statement's generic plan, made from the table sizes of its day, until
 * something invalidates it: an ANALYZE (autovacuum runs one as a table changes) or a schema change.
 * A plan made while the tables held a few hundred rows reads them whole (a sequential scan is the
 * cheapest way to read three pages); with no ANALYZE since (autovacuum off, or between its runs on a
 * fast-growing table) the statement goes on reading them whole at millions of rows: O(history) on
 * every append and every lookup by id. So a connection drops its cached plans (`DISCARD PLANS`; the
 * statements stay prepared) when this backend has written as many messages since that connection's
 * last drop as it had before (and at least `MIN_GROWTH`), and after `MAX_PLAN_AGE_MS` for what other
 * processes write. The planner sizes a table by its current size on disk, so the plans made next fit
 * the tables as they are. A drop is one round trip per connection, a few times per doubling of the
 * data.
 */
import type { PgPoolClient } from './types.js';

/** Messages written before a connection's first plans are remade. */
const MIN_GROWTH = 1_000;
/** The longest a connection keeps its plans, for the tables' growth by other writers. */
const MAX_PLAN_AGE_MS = 5 * 60_000;

export interface PlanFreshness {
  /** Counts messages this backend wrote. */
  written(count: number): void;
  /** Drops the client's cached plans when the tables may have outgrown them; call before its statements. */
  refresh(client: PgPoolClient): Promise<void>;
}

export function planFreshness(now: () => number = Date.now): PlanFreshness {
  let total = 0;
  const lastDrop = new WeakMap<PgPoolClient, { written: number; at: number }>();
  return {
    written(count) {
      total += count;
    },
    async refresh(client) {
      const at = now();
      const last = lastDrop.get(client);
      if (last === undefined) {
        // A connection new to this backend plans from the tables as they are now.
        lastDrop.set(client, { written: total, at });
        return;
      }
      const grown = total - last.written >= Math.max(MIN_GROWTH, last.written);
      if (!grown && at - last.at < MAX_PLAN_AGE_MS) return;
      await client.query('DISCARD PLANS');
      lastDrop.set(client, { written: total, at });
    },
  };
}
