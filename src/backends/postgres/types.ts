/**
 * The public types of `chatstore/postgres` (re-exported by `index.ts`): the part of `pg` the backend
 * uses, its options and what it returns. They live in this leaf file so that every part of the
 * backend can name them without importing `index.ts`, which imports the parts.
 */
import type { Backend } from '../../backend.js';
import type { JsonObject, Message } from '../../model.js';
import type { PartitionDrop, PgPartition } from './partitions.js';
import type { PgLayout } from './schema.js';

/** What a query gives back, as far as this backend reads it. */
export interface PgQueryResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/** A query with its text, values and, for a prepared statement, a name. */
export interface PgQueryConfig {
  text: string;
  values?: unknown[];
  name?: string;
}

/** A client checked out of a pool (the part of `pg.PoolClient` the backend uses). */
export interface PgPoolClient {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  query(text: string, values?: unknown[]): Promise<PgQueryResult>;
  /** With an error (or `true`), the client is destroyed instead of returned to the pool. */
  release(destroy?: boolean | Error): void;
  /** `pg.Client` is an EventEmitter: it emits `error` when its connection breaks. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  off?(event: 'error', listener: (error: Error) => void): unknown;
}

/** A connection pool (the part of `pg.Pool` the backend uses); yours stays open after `close()`. */
export interface PgPool {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  connect(): Promise<PgPoolClient>;
  /** Called only on the pool the backend made itself. */
  end?(): Promise<void>;
}

/**
 * @example
 * await postgresBackend({ url: 'postgres://app@db/chat', schema: 'chatstore', partitioning: 'monthly' })
 */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database?schema=&partitioning=monthly&textSearch=&poolSize=`. */
  url?: string;
  /** A pool of your own instead of a URL; the backend never ends it. */
  pool?: PgPool;
  /** The schema holding chatstore's tables (created when missing). Default `chatstore`. */
  schema?: string;
  /** `monthly`: messages partitioned by created time, for retention by dropping partitions. Default `none`. */
  partitioning?: 'none' | 'monthly';
  /** The text search configuration of the full-text index. Default `simple` (every word as written). */
  textSearchConfig?: string;
  /** Connections of the pool made from `url`. Default 10. */
  poolSize?: number;
}

/** Options of the old log's queries. */
export interface HistoryOptions {
  /** At most this many, newest first. Default 50, at most 1,000. */
  limit?: number;
  /** Only messages created before this time. */
  before?: string | Date | number;
  conversationId?: string;
}

/**
 * The postgres backend: a `Backend` plus the old design's log queries (each served by its own
 * index) and partition retention.
 * @example const backend = await postgresBackend({ url }); const store = new ChatStore(backend);
 */
export interface PostgresBackend extends Backend {
  /** The schema's layout: schema name, partitioning, text search configuration. */
  readonly layout: Readonly<PgLayout>;
  /** A participant's messages (what they sent), newest first. */
  bySender(senderId: string, options?: HistoryOptions): Promise<Message[]>;
  /** Failed deliveries, newest first, of the store or of one conversation. */
  failed(options?: HistoryOptions): Promise<Message[]>;
  /** A conversation's messages with attachments, newest first; `beforeSeq` pages back. */
  withMedia(conversationId: string, options?: { limit?: number; beforeSeq?: number }): Promise<Message[]>;
  /** The replies to a message within its conversation, in seq order. */
  replies(messageId: string, options?: { limit?: number }): Promise<Message[]>;
  /** Messages whose metadata contains `containment` (`@>`), newest first. */
  byMetadata(containment: JsonObject, options?: HistoryOptions): Promise<Message[]>;
  /** The monthly partitions (`monthly` layout), oldest first. */
  partitions(): Promise<PgPartition[]>;
  /** Retention: drops every monthly partition entirely before `before` (`UNSUPPORTED` without partitioning). */
  dropPartitionsBefore(before: string | Date | number): Promise<PartitionDrop>;
}
