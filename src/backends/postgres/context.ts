/**
 * What every part of one postgres backend shares: the pool, the layout and its partitions, the
 * statements of the schema, the statement names and shaped statements built so far, the closed flag,
 * and the two ways statements run (one on the pool, or a transaction on one client), both with
 * driver errors mapped. `connect.ts` builds it once per backend; each `…Operations(ctx)` factory
 * reads it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ChatStoreError } from '../../errors.js';
import type { Message } from '../../model.js';
import { fromStoredMessage, type StoredMessageRow } from '../sql/rows.js';
import type { ShapedSql } from '../sql/shapes.js';
import { toChatStoreError } from './errors.js';
import type { PgPartitions } from './partitions.js';
import { type PlanFreshness, planFreshness } from './plan-freshness.js';
import type { PgLayout } from './schema.js';
import { type PgSql, pgSql } from './statements.js';
import { type PgTextSearch, pgTextSearch } from './text-search.js';
import { inTransaction } from './transaction.js';
import type { PgPool, PgPoolClient, PgQueryResult } from './types.js';

/** Runs statements on one client inside a transaction. */
export type TransactionQuery = (text: string, values?: unknown[]) => Promise<PgQueryResult>;

/** Shared by every part of one backend; only `close` changes it. */
export interface PgLifecycle {
  closed: boolean;
}

export interface PgContext {
  readonly pool: PgPool;
  /** The backend made the pool from a URL, so `close` ends it (a pool of yours stays open). */
  readonly ownsPool: boolean;
  readonly layout: PgLayout;
  /** The partition manager of a `monthly` layout. */
  readonly partitions: PgPartitions | undefined;
  readonly sql: PgSql;
  readonly fullText: PgTextSearch;
  readonly lifecycle: PgLifecycle;
  /** Prepared statement names by statement text. */
  readonly statementNames: Map<string, string>;
  /** The statements of the query shapes met so far, by shape key. */
  readonly shapes: Map<string, ShapedSql>;
  /** When each connection remakes its plans; the append path reports what it wrote. */
  readonly plans: PlanFreshness;
  /**
   * Who this backend is in the announcements of its writes (schema migration 4): set as
   * `chatstore.origin` on its connections once a change feed is open, so that its own feed skips them.
   */
  readonly origin: { id: string; announced: boolean };

  /** Throws `UNAVAILABLE` once the backend is closed. */
  ensureOpen(): void;
  /** One statement on the pool, prepared; errors leave mapped. */
  query(text: string, values?: unknown[]): Promise<PgQueryResult>;
  rows<R>(text: string, values?: unknown[]): Promise<R[]>;
  messages(text: string, values: unknown[]): Promise<Message[]>;
  /** `work` in one transaction on one client (its statements prepared too). */
  transaction<T>(work: (run: TransactionQuery) => Promise<T>): Promise<T>;
  /** The statement of one query shape, built on first use and kept for the backend's life. */
  shape(key: string, build: () => ShapedSql): ShapedSql;
}

/** The origin a connection was last given (a pool may be shared by several backends). */
const ORIGIN = Symbol('chatstore.origin');

/** A client out of the pool, and how to give it back (`release(error)` destroys it). */
interface CheckedOut {
  client: PgPoolClient;
  release(destroy?: boolean | Error): void;
}

export function createContext(
  pool: PgPool,
  ownsPool: boolean,
  layout: PgLayout,
  partitions: PgPartitions | undefined,
): PgContext {
  const lifecycle: PgLifecycle = { closed: false };
  const statementNames = new Map<string, string>();
  const shapes = new Map<string, ShapedSql>();
  const plans = planFreshness();
  const origin = { id: randomUUID(), announced: false };

  const ensureOpen = (): void => {
    if (lifecycle.closed) throw new ChatStoreError('UNAVAILABLE', 'the postgres backend is closed');
  };

  /** Every statement is prepared once per connection, under a name derived from its text. */
  const statementName = (text: string): string => {
    let name = statementNames.get(text);
    if (name === undefined) {
      name = `chatstore_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      statementNames.set(text, name);
    }
    return name;
  };

  /**
   * A client of the pool with plans that fit the tables; the caller releases it (with the error
   * that broke it, to have it destroyed). As pg's own `pool.query`: while the client is out, an
   * `error` it emits (the server went away) fails the statement in flight, never the process.
   */
  const checkOut = async (): Promise<CheckedOut> => {
    let client: PgPoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toChatStoreError(error);
    }
    const failInFlight = (): void => undefined;
    client.on?.('error', failInFlight);
    const checkedOut: CheckedOut = {
      client,
      release(destroy) {
        client.off?.('error', failInFlight);
        client.release(destroy);
      },
    };
    try {
      await plans.refresh(client);
      const marked = client as PgPoolClient & { [ORIGIN]?: string };
      if (origin.announced && marked[ORIGIN] !== origin.id) {
        await client.query("SELECT set_config('chatstore.origin', $1, false)", [origin.id]);
        marked[ORIGIN] = origin.id;
      }
    } catch (error) {
      checkedOut.release(error instanceof Error ? error : true);
      throw toChatStoreError(error);
    }
    return checkedOut;
  };

  const query = async (text: string, values: unknown[] = []): Promise<PgQueryResult> => {
    ensureOpen();
    const { client, release } = await checkOut();
    // As pg's pool.query: a client whose statement failed is destroyed, not returned.
    let failure: Error | undefined;
    try {
      return await client.query({ name: statementName(text), text, values });
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw toChatStoreError(error);
    } finally {
      release(failure);
    }
  };

  const rows = async <R>(text: string, values: unknown[] = []): Promise<R[]> => (await query(text, values)).rows as R[];

  return {
    pool,
    ownsPool,
    layout,
    partitions,
    sql: pgSql(layout),
    fullText: pgTextSearch(layout),
    lifecycle,
    statementNames,
    shapes,
    plans,
    origin,
    ensureOpen,
    query,
    rows,
    messages: async (text, values) => (await rows<StoredMessageRow>(text, values)).map(fromStoredMessage),
    async transaction(work) {
      ensureOpen();
      const { client, release } = await checkOut();
      return inTransaction({ query: (text, values) => client.query(text, values), release }, () =>
        work((text, values = []) => client.query({ name: statementName(text), text, values })),
      );
    },
    shape(key, build) {
      let built = shapes.get(key);
      if (built === undefined) {
        built = build();
        shapes.set(key, built);
      }
      return built;
    },
  };
}
