/**
 * The postgres backend (DESIGN §5), the production default: a `pg` pool (yours, or one it makes
 * from a URL), tables in their own schema, versioned migrations at open.
 *
 * An append is one round trip: one statement locks or creates the conversation's counter row, takes
 * the next seqs, checks that nothing of the call is stored yet and inserts the rows; appends to one
 * conversation serialize on that row only. The rare call that is
 * not that plain case (a stored duplicate, an `expectedLastSeq` that does not hold, a duplicate
 * racing in) takes the general path: a transaction that locks the same row, reads the stored
 * matches and lets `planAppend` decide, so the append rules live in one place.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type {
  AppendRequest,
  Backend,
  BackendSearchHit,
  ConversationQuery,
  CreateConversationRequest,
  ErasureCounts,
  MessageDraft,
  RangeQuery,
  SearchQuery,
} from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type {
  AppendResult,
  Conversation,
  ConversationPatch,
  JsonObject,
  Message,
  Participant,
  Stats,
} from '../../model.js';
import { type AppendPlan, planAppend } from '../../plan.js';
import { normalizeTime } from '../../validate.js';
import { lazyDriver } from '../lazy-driver.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { appendFastThenUnderLock } from '../sql/append.js';
import {
  type ConversationRow,
  fromStoredMessage,
  messageBody,
  messageColumns,
  participantColumns,
  type StoredMessageRow,
  toConversation,
} from '../sql/rows.js';
import { type ConversationListShape, rangeShape, type SearchShape, type ShapedSql } from '../sql/shapes.js';
import { sqlState, toChatStoreError } from './errors.js';
import { notPartitioned, type PartitionDrop, type PgPartition, type PgPartitions, pgPartitions } from './partitions.js';
import { inTransaction, migrate, type PgLayout, type PgMigrationPlan } from './schema.js';
import { type PgSql, type PgTextSearch, pgSql, pgTextSearch } from './statements.js';

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

type PgDriver = typeof pg;

const DEFAULT_SCHEMA = 'chatstore';
const DEFAULT_POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_HISTORY = 1000;
/** General-path attempts of one append before its last failure is reported. */
const APPEND_ATTEMPTS = 8;
const MISSING_DRIVER_MESSAGE = 'the postgres backend needs pg: npm install pg';

/** The URL parameters that are chatstore's (every other one goes to the driver). */
const URL_OPTIONS = ['schema', 'partitioning', 'textSearch', 'poolSize'] as const;

const NO_MATCHES = { byId: new Map<string, Message>(), byExternalId: new Map<string, Message>() };

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(
  () => import('pg').then((module) => (module.default ?? module) as PgDriver),
  MISSING_DRIVER_MESSAGE,
);

/**
 * Opens a chatstore schema on PostgreSQL, creating or upgrading it first.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { postgresBackend } from 'chatstore/postgres';
 * const store = new ChatStore(await postgresBackend({ url: process.env.DATABASE_URL }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function postgresBackend(options: PostgresOptions): Promise<PostgresBackend> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  const ownsPool = settings.pool === undefined;
  let layout: PgLayout;
  let partitions: PgPartitions | undefined;
  try {
    layout = (await migrateWith(pool, settings)).layout;
    if (layout.partitioning === 'monthly') partitions = await pgPartitions(pool, layout);
  } catch (error) {
    if (ownsPool) await pool.end?.().catch(() => undefined);
    throw toChatStoreError(error);
  }
  return openBackend(pool, ownsPool, layout, partitions);
}

/**
 * The migration plan of a schema: what opening would apply (`dryRun`), or applies it now.
 * `chatstore schema --url … [--dry-run]` prints its statements.
 * @example const { statements } = await postgresMigrations({ url, dryRun: true });
 */
export async function postgresMigrations(options: PostgresOptions & { dryRun?: boolean }): Promise<PgMigrationPlan> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  try {
    return await migrateWith(pool, settings, options.dryRun === true);
  } catch (error) {
    throw toChatStoreError(error);
  } finally {
    if (settings.pool === undefined) await pool.end?.().catch(() => undefined);
  }
}

/**
 * Options from a store URL's parts (what `openStore('postgres://…')` passes): chatstore's own
 * parameters become options, the rest stay in the URL for the driver.
 * @example postgresUrlOptions('app:secret@db:5432/chat', new URLSearchParams('schema=bot1&sslmode=require'))
 */
export function postgresUrlOptions(location: string, params: URLSearchParams): PostgresOptions {
  // The location arrives percent-decoded: encode the user and password again for the driver.
  const at = location.lastIndexOf('@');
  let authority = location;
  if (at >= 0) {
    const userInfo = location.slice(0, at);
    const colon = userInfo.indexOf(':');
    const user = colon < 0 ? userInfo : userInfo.slice(0, colon);
    const password = colon < 0 ? undefined : userInfo.slice(colon + 1);
    authority = `${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@${location.slice(at + 1)}`;
  }
  const query = new URLSearchParams(params);
  for (const name of URL_OPTIONS) query.delete(name);
  const rest = query.toString();
  return { url: `postgres://${authority}${rest === '' ? '' : `?${rest}`}`, ...urlParams(params) };
}

interface PgSettings {
  connectionString: string | undefined;
  pool: PgPool | undefined;
  schema: string;
  partitioning: 'none' | 'monthly' | undefined;
  textSearchConfig: string | undefined;
  poolSize: number;
}

function checkOptions(options: PostgresOptions): PgSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'postgres options must be an object', { path: 'options' });
  }
  let fromUrl: PostgresOptions = {};
  let connectionString: string | undefined;
  if (options.url !== undefined) {
    if (typeof options.url !== 'string' || !/^postgres(ql)?:\/\//i.test(options.url)) {
      throw new ChatStoreError('INVALID_ARGUMENT', 'the postgres url must start with postgres://', { path: 'url' });
    }
    const mark = options.url.indexOf('?');
    const base = mark < 0 ? options.url : options.url.slice(0, mark);
    const params = new URLSearchParams(mark < 0 ? '' : options.url.slice(mark + 1));
    fromUrl = urlParams(params);
    for (const name of URL_OPTIONS) params.delete(name);
    const rest = params.toString();
    connectionString = rest === '' ? base : `${base}?${rest}`;
  }
  if ((connectionString === undefined) === (options.pool === undefined)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'give the postgres backend a url or a pool (one of them)', {
      path: options.pool === undefined ? 'url' : 'pool',
    });
  }
  const schema = options.schema ?? fromUrl.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      'the postgres schema must be a lower-case identifier (a-z, 0-9, _; at most 63)',
      { path: 'schema' },
    );
  }
  const partitioning = options.partitioning ?? fromUrl.partitioning;
  if (partitioning !== undefined && partitioning !== 'none' && partitioning !== 'monthly') {
    throw new ChatStoreError('INVALID_ARGUMENT', "postgres partitioning must be 'none' or 'monthly'", {
      path: 'partitioning',
    });
  }
  const textSearchConfig = options.textSearchConfig ?? fromUrl.textSearchConfig;
  if (
    textSearchConfig !== undefined &&
    (typeof textSearchConfig !== 'string' || !/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/.test(textSearchConfig))
  ) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'textSearchConfig must name a text search configuration', {
      path: 'textSearchConfig',
    });
  }
  const poolSize = options.poolSize ?? fromUrl.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'poolSize must be a positive integer', { path: 'poolSize' });
  }
  return { connectionString, pool: options.pool, schema, partitioning, textSearchConfig, poolSize };
}

function urlParams(params: URLSearchParams): PostgresOptions {
  const schema = params.get('schema');
  const partitioning = params.get('partitioning');
  const textSearch = params.get('textSearch');
  const poolSize = params.get('poolSize');
  return {
    ...(schema === null ? {} : { schema }),
    ...(partitioning === null ? {} : { partitioning: partitioning as 'none' | 'monthly' }),
    ...(textSearch === null ? {} : { textSearchConfig: textSearch }),
    ...(poolSize === null ? {} : { poolSize: /^\d+$/.test(poolSize) ? Number(poolSize) : Number.NaN }),
  };
}

async function makePool(settings: PgSettings): Promise<PgPool> {
  const { Pool } = await loadDriver();
  const pool = new Pool({
    connectionString: settings.connectionString,
    max: settings.poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client whose server went away (restart, failover) errors here; the pool drops it and
  // connects again on demand. Without a listener the error would end the process.
  pool.on('error', () => undefined);
  return pool as unknown as PgPool;
}

async function migrateWith(pool: PgPool, settings: PgSettings, dryRun = false): Promise<PgMigrationPlan> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await migrate(
      { query: (text, values) => client.query(text, values) },
      {
        schema: settings.schema,
        ...(settings.partitioning === undefined ? {} : { partitioning: settings.partitioning }),
        ...(settings.textSearchConfig === undefined ? {} : { textSearchConfig: settings.textSearchConfig }),
      },
      { dryRun },
    );
  } catch (error) {
    if (toChatStoreError(error) !== error && error instanceof Error) broken = error;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Runs statements on one client inside a transaction. */
type TransactionQuery = (text: string, values?: unknown[]) => Promise<PgQueryResult>;

function openBackend(
  pool: PgPool,
  ownsPool: boolean,
  layout: PgLayout,
  partitions: PgPartitions | undefined,
): PostgresBackend {
  const sql: PgSql = pgSql(layout);
  const fullText = pgTextSearch(layout);
  const names = new Map<string, string>();
  const shaped = new Map<string, ShapedSql>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new ChatStoreError('UNAVAILABLE', 'the postgres backend is closed');
  };

  /** Every statement is prepared once per connection, under a name derived from its text. */
  const statementName = (text: string): string => {
    let name = names.get(text);
    if (name === undefined) {
      name = `chatstore_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      names.set(text, name);
    }
    return name;
  };

  const query = async (text: string, values: unknown[] = []): Promise<PgQueryResult> => {
    ensureOpen();
    try {
      return await pool.query({ name: statementName(text), text, values });
    } catch (error) {
      throw toChatStoreError(error);
    }
  };

  const rows = async <R>(text: string, values: unknown[] = []): Promise<R[]> => (await query(text, values)).rows as R[];

  const transaction = async <T>(work: (run: TransactionQuery) => Promise<T>): Promise<T> => {
    ensureOpen();
    let client: PgPoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toChatStoreError(error);
    }
    return inTransaction(client, () =>
      work((text, values = []) => client.query({ name: statementName(text), text, values })),
    );
  };

  const shape = (key: string, build: () => ShapedSql): ShapedSql => {
    let built = shaped.get(key);
    if (built === undefined) {
      built = build();
      shaped.set(key, built);
    }
    return built;
  };

  const loadConversation = async (id: string): Promise<Conversation | undefined> => {
    const [row] = await rows<ConversationRow>(sql.conversation, [id]);
    return row === undefined ? undefined : toConversation(row);
  };

  /**
   * The values of one `appendMessages` statement: the messages to insert (seqs relative to the counter)
   * and the drafts whose ids and externalIds must not be stored yet.
   */
  const appendValues = (
    request: AppendRequest,
    checked: readonly MessageDraft[],
    inserts: Message[],
    base: number,
    expectedLastSeq: number | null,
    lastMessageAt: string | undefined,
  ): unknown[] => [
    request.conversationId,
    request.conversation.type,
    request.conversation.title ?? null,
    JSON.stringify(request.conversation.metadata),
    request.now,
    expectedLastSeq,
    lastMessageAt ?? null,
    checked.map((message) => message.id),
    externalIdsOf(checked),
    JSON.stringify(inserts.map((message) => appendRow(message, message.seq - base, fullText))),
    JSON.stringify(participantColumns(request.participants)),
    inserts.length,
  ];

  /** The plain case in one round trip; seqs of `relative` count from 0 and are shifted by the counter. */
  const appendInOneTrip = async (request: AppendRequest, relative: AppendPlan): Promise<AppendResult[] | undefined> => {
    // Every draft is checked, not only the inserts: a draft the plan took for a duplicate within
    // the call may be stored already, and then the stored message decides.
    const values = appendValues(
      request,
      request.messages,
      relative.inserts,
      0,
      request.expectedLastSeq ?? null,
      relative.lastMessageAt,
    );
    const [row] = await rows<{ base: string | number }>(sql.appendMessages, values);
    if (row === undefined) return undefined;
    const base = Number(row.base);
    return relative.results.map((result) => ({
      message: { ...result.message, seq: result.message.seq + base },
      duplicate: result.duplicate,
    }));
  };

  /** Everything else: under the counter row's lock, the stored matches go to planAppend. */
  const appendUnderLock = (request: AppendRequest): Promise<AppendResult[]> =>
    transaction(async (run) => {
      const id = request.conversationId;
      // A new conversation gets its row now, to be locked; a call that then stores nothing fails
      // (a new conversation holds no duplicate, so only a CONFLICT stores nothing) and rolls it back.
      await run(sql.ensureConversation, [
        id,
        request.conversation.type,
        request.conversation.title ?? null,
        JSON.stringify(request.conversation.metadata),
        request.now,
      ]);
      const counter = (await run(sql.lockConversation, [id])).rows[0];
      const lastSeq = Number(counter?.last_seq ?? 0);
      const byId = new Map<string, Message>();
      for (const row of (await run(sql.messagesByIds, [request.messages.map((m) => m.id)])).rows) {
        const message = fromStoredMessage(row as unknown as StoredMessageRow);
        byId.set(message.id, message);
      }
      const externalIds = externalIdsOf(request.messages);
      const byExternalId = new Map<string, Message>();
      if (externalIds.length > 0) {
        for (const row of (await run(sql.messagesByExternalIds, [id, externalIds])).rows) {
          const message = fromStoredMessage(row as unknown as StoredMessageRow);
          if (message.externalId !== undefined) byExternalId.set(message.externalId, message);
        }
      }
      const plan = planAppend(request, lastSeq, { byId, byExternalId });
      if (plan.inserts.length === 0) return plan.results;
      const values = appendValues(request, plan.inserts, plan.inserts, lastSeq, null, plan.lastMessageAt);
      const stored = (await run(sql.appendMessages, values)).rows[0];
      if (stored === undefined || Number(stored.base) !== lastSeq) {
        throw new ChatStoreError('UNAVAILABLE', `postgres: the counter of ${id} moved while locked`);
      }
      return plan.results;
    });

  const historyLimit = (limit: number | undefined): number => {
    const value = limit ?? 50;
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_HISTORY) {
      throw new ChatStoreError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_HISTORY}`, {
        path: 'limit',
      });
    }
    return value;
  };

  const historyTime = (time: string | Date | number | undefined, path: string): string => {
    if (time === undefined) return 'infinity';
    const iso = normalizeTime(time);
    if (iso === undefined) throw new ChatStoreError('INVALID_ARGUMENT', `${path} must be a time`, { path });
    return iso;
  };

  const messages = async (text: string, values: unknown[]): Promise<Message[]> =>
    (await rows<StoredMessageRow>(text, values)).map(fromStoredMessage);

  return {
    name: 'postgres',
    layout,

    async append(request: AppendRequest): Promise<AppendResult[]> {
      ensureOpen();
      const { expectedLastSeq: _checkedInSql, ...unchecked } = request;
      const relative = planAppend(unchecked, 0, NO_MATCHES);
      if (partitions !== undefined) {
        try {
          await partitions.ensureFor(relative.inserts.map((message) => message.createdAt));
        } catch (error) {
          throw toChatStoreError(error);
        }
      }
      return appendFastThenUnderLock({
        inOneTrip: () => appendInOneTrip(request, relative),
        underLock: () => appendUnderLock(request),
        retryable: needsPlanUnderLock,
        attempts: APPEND_ATTEMPTS,
        toError: toChatStoreError,
      });
    },

    async getMessage(id: string): Promise<Message | undefined> {
      const [row] = await rows<StoredMessageRow>(sql.message, [id]);
      return row === undefined ? undefined : fromStoredMessage(row);
    },

    async getMessageByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
      const [row] =
        conversationId === undefined
          ? await rows<StoredMessageRow>(sql.firstMessageByExternalId, [externalId])
          : await rows<StoredMessageRow>(sql.messageByExternalId, [conversationId, externalId]);
      return row === undefined ? undefined : fromStoredMessage(row);
    },

    async range(conversationId: string, range: RangeQuery): Promise<Message[]> {
      const rangeOf = rangeShape(range);
      const { text, params } = shape(`range:${JSON.stringify(rangeOf)}`, () => sql.range(rangeOf));
      const values: Record<string, unknown> = {
        conversationId,
        afterSeq: range.afterSeq ?? 0,
        beforeSeq: range.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        from: range.from,
        to: range.to,
        limit: range.limit,
      };
      return messages(
        text,
        params.map((name) => values[name]),
      );
    },

    updateMessage(id, change): Promise<Message | undefined> {
      return untilUnchanged(`message ${id}`, async () => {
        const [row] = await rows<StoredMessageRow & { row_version: string }>(sql.messageForUpdate, [id]);
        if (row === undefined) return undefined;
        const current = fromStoredMessage(row);
        const next = change(fromStoredMessage(row));
        if (next === undefined) return current;
        const columns = messageColumns({
          ...next,
          id: current.id,
          conversationId: current.conversationId,
          seq: current.seq,
        });
        const [updated] = await rows<StoredMessageRow>(sql.updateMessage, [
          current.conversationId,
          current.seq,
          current.createdAt,
          row.row_version,
          columns.content,
          columns.content === current.content ? null : fullText.vectorValue(columns.search_text),
          columns.metadata === null ? null : JSON.stringify(columns.metadata),
          columns.status,
          columns.error_code,
          columns.error_message,
          columns.queued_at,
          columns.sent_at,
          columns.delivered_at,
          columns.read_at,
          columns.failed_at,
          columns.edited_at,
          columns.deleted_at,
          JSON.stringify(messageBody(next)),
        ]);
        // No row: someone changed (or removed) the message since it was read; read it again.
        return updated === undefined ? CHANGED : fromStoredMessage(updated);
      });
    },

    async removeMessage(id: string): Promise<boolean> {
      const [row] = await rows<{ removed: number }>(sql.removeMessage, [id]);
      return (row?.removed ?? 0) > 0;
    },

    async search(search: SearchQuery): Promise<BackendSearchHit[]> {
      const searchShape: SearchShape = {
        conversation: search.conversationId !== undefined,
        sender: search.senderId !== undefined,
        from: search.from !== undefined,
        to: search.to !== undefined,
        after: search.after !== undefined,
      };
      const { text, params } = shape(`search:${JSON.stringify(searchShape)}`, () => sql.search(searchShape));
      const values: Record<string, unknown> = {
        // Quoted, every term is one word to_tsquery sees (never an operator); `&`: all must match.
        query: search.terms.map((term) => `'${term.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`).join(' & '),
        words: fullText.wordsValue(search.terms),
        conversationId: search.conversationId,
        senderId: search.senderId,
        from: search.from,
        to: search.to,
        afterScore: search.after?.score,
        afterId: search.after?.id,
        limit: search.limit,
      };
      const found = await rows<StoredMessageRow & { score: number }>(
        text,
        params.map((name) => values[name]),
      );
      return found.map((row) => ({ message: fromStoredMessage(row), score: Number(row.score) }));
    },

    getConversation: loadConversation,

    async listConversations(listing: ConversationQuery): Promise<Conversation[]> {
      const listShape: ConversationListShape = {
        participant: listing.participantId !== undefined,
        type: listing.type !== undefined,
        after: listing.after !== undefined,
        includeDeleted: listing.includeDeleted,
      };
      const { text, params } = shape(`list:${JSON.stringify(listShape)}`, () => sql.listConversations(listShape));
      const values: Record<string, unknown> = {
        participantId: listing.participantId,
        type: listing.type,
        afterActivityAt: listing.after?.activityAt,
        afterId: listing.after?.id,
        limit: listing.limit,
      };
      return (
        await rows<ConversationRow>(
          text,
          params.map((name) => values[name]),
        )
      ).map(toConversation);
    },

    async createConversation(request: CreateConversationRequest): Promise<Conversation> {
      const [row] = await rows<{ created: number }>(sql.createConversation, [
        request.id,
        request.type,
        request.title ?? null,
        JSON.stringify(request.metadata),
        request.now,
        JSON.stringify(participantColumns(request.participants)),
      ]);
      if ((row?.created ?? 0) === 0) throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
      return (await loadConversation(request.id)) as Conversation;
    },

    async updateConversation(id: string, patch: ConversationPatch, now: string): Promise<Conversation | undefined> {
      const [row] = await rows<ConversationRow>(sql.updateConversation, [
        id,
        patch.type ?? null,
        patch.title !== undefined,
        patch.title ?? null,
        patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
        now,
      ]);
      return row === undefined ? undefined : toConversation(row);
    },

    async addParticipants(conversationId: string, participants: Participant[], now: string) {
      const [row] = await rows<{ found: number }>(sql.addParticipants, [
        conversationId,
        now,
        JSON.stringify(participantColumns(participants)),
      ]);
      return (row?.found ?? 0) === 0 ? undefined : loadConversation(conversationId);
    },

    async removeParticipant(conversationId: string, participantId: string, now: string) {
      const [row] = await rows<{ found: number }>(sql.removeParticipant, [conversationId, now, participantId]);
      return (row?.found ?? 0) === 0 ? undefined : loadConversation(conversationId);
    },

    async deleteConversation(id: string, options: { hard: boolean; now: string }): Promise<boolean> {
      try {
        return await transaction(async (run) => {
          // Locked first: an append in flight finishes before, and none starts until the delete commits.
          if ((await run(sql.lockConversation, [id])).rows.length === 0) return false;
          if (options.hard) await run(sql.removeConversation, [id]);
          else await run(sql.softDeleteConversation, [id, options.now]);
          return true;
        });
      } catch (error) {
        throw toChatStoreError(error);
      }
    },

    async stats(conversationId?: string): Promise<Stats> {
      const [row] =
        conversationId === undefined
          ? await rows<Record<string, string>>(sql.statsOfAll)
          : await rows<Record<string, string>>(sql.statsOfOne, [conversationId]);
      const count = (name: string): number => Number(row?.[name] ?? 0);
      return {
        total: count('total'),
        incoming: count('incoming'),
        outgoing: count('outgoing'),
        withMedia: count('with_media'),
        commands: count('commands'),
        adminCommands: count('admin_commands'),
        failed: count('failed'),
        deleted: count('deleted'),
        byRole: { user: count('user'), assistant: count('assistant'), system: count('system'), tool: count('tool') },
        conversations: count('conversations'),
      };
    },

    async eraseSubject(subjectId: string): Promise<ErasureCounts> {
      try {
        return await transaction(async (run) => {
          // The subject's own entries in every conversation, the one named after them included.
          const participantEntriesRemoved = (await run(sql.deleteParticipantEverywhere, [subjectId])).rowCount ?? 0;
          let messagesDeleted = 0;
          const conversationsDeleted: string[] = [];
          if ((await run(sql.lockConversation, [subjectId])).rows.length > 0) {
            messagesDeleted += Number((await run(sql.removeConversation, [subjectId])).rows[0]?.n ?? 0);
            conversationsDeleted.push(subjectId);
          }
          messagesDeleted += Number((await run(sql.removeMessagesOfSubject, [subjectId])).rows[0]?.n ?? 0);
          return { messagesDeleted, conversationsDeleted, participantEntriesRemoved };
        });
      } catch (error) {
        throw toChatStoreError(error);
      }
    },

    async conversationIds(after: string | undefined, limit: number): Promise<string[]> {
      return (await rows<{ conversation_id: string }>(sql.conversationIds, [after ?? '', limit])).map(
        (row) => row.conversation_id,
      );
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (ownsPool) await pool.end?.().catch(() => undefined);
    },

    async bySender(senderId, options = {}) {
      return messages(sql.bySender, [senderId, historyTime(options.before, 'before'), historyLimit(options.limit)]);
    },

    async failed(options = {}) {
      return messages(sql.failed, [
        historyTime(options.before, 'before'),
        options.conversationId ?? null,
        historyLimit(options.limit),
      ]);
    },

    async withMedia(conversationId, options = {}) {
      return messages(sql.withMedia, [
        conversationId,
        options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        historyLimit(options.limit),
      ]);
    },

    async replies(messageId, options = {}) {
      return messages(sql.replies, [messageId, historyLimit(options.limit)]);
    },

    async byMetadata(containment, options = {}) {
      if (typeof containment !== 'object' || containment === null || Array.isArray(containment)) {
        throw new ChatStoreError('INVALID_ARGUMENT', 'containment must be a JSON object', { path: 'containment' });
      }
      return messages(sql.byMetadata, [
        JSON.stringify(containment),
        options.conversationId ?? null,
        historyLimit(options.limit),
      ]);
    },

    async partitions() {
      ensureOpen();
      if (partitions === undefined) return [];
      try {
        return await partitions.list();
      } catch (error) {
        throw toChatStoreError(error);
      }
    },

    async dropPartitionsBefore(before) {
      ensureOpen();
      const iso = normalizeTime(before);
      if (iso === undefined) {
        throw new ChatStoreError('INVALID_ARGUMENT', 'before must be a time', { path: 'before' });
      }
      if (partitions === undefined) throw notPartitioned(layout.schema);
      try {
        return await partitions.dropBefore(iso);
      } catch (error) {
        throw toChatStoreError(error);
      }
    },
  };
}

/** A message as `appendMessages` reads it: its columns, nulls left out, and its seq relative to the counter. */
function appendRow(message: Message, relativeSeq: number, text: PgTextSearch): Record<string, unknown> {
  const { conversation_id: _conversation, seq: _seq, ...columns } = messageColumns(message);
  const row: Record<string, unknown> = { rel_seq: relativeSeq };
  for (const [name, value] of Object.entries(columns)) if (value !== null) row[name] = value;
  row.search_text = text.vectorValue(columns.search_text);
  row.body = messageBody(message);
  return row;
}

function externalIdsOf(drafts: readonly MessageDraft[]): string[] {
  return drafts.flatMap((draft) => (draft.externalId === undefined ? [] : [draft.externalId]));
}

/**
 * The one-trip path could not settle the call: a duplicate that raced in (unique violation), or a
 * deadlock with another writer. (A stored duplicate or a stale `expectedLastSeq` return no row.)
 */
function needsPlanUnderLock(error: unknown): boolean {
  const state = sqlState(error instanceof ChatStoreError ? error.cause : error);
  return state === '23505' || state === '40P01' || state === '40001';
}
