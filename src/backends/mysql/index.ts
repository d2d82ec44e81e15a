/**
 * The mysql backend (DESIGN §5): InnoDB on MySQL 8 or MariaDB through a `mysql2` pool (yours, or
 * one it makes from a URL), tables in a database of their own, versioned migrations at open.
 *
 * Messages are clustered by `(conversation_id, seq)`, so a page of a conversation is one range scan
 * of the primary key, and each is stored as one JSON body beside the columns queries need. An
 * append is one round trip in the plain case: a stored procedure locks (or creates) the
 * conversation's counter row, takes the next seqs, inserts the messages and missing participants
 * and commits; appends to one conversation serialize on that row only. A call that is not the plain
 * case (a stored duplicate, a stale `expectedLastSeq`, a duplicate racing in) takes the general
 * path: a transaction that locks the same row with `SELECT … FOR UPDATE`, reads the stored matches
 * and lets `planAppend` decide, so the append rules live in one place.
 */
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
  JsonValue,
  Message,
  Participant,
  Stats,
} from '../../model.js';
import { type AppendPlan, planAppend } from '../../plan.js';
import { lazyDriver } from '../lazy-driver.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { appendFastThenUnderLock } from '../sql/append.js';
import { type ConversationRow, type ParticipantTuple, toConversation } from '../sql/rows.js';
import { type ConversationListShape, rangeShape, type ShapedSql } from '../sql/shapes.js';
import { errorCode, toChatStoreError } from './errors.js';
import { datetime, datetimeOrNull, type MessageRow, messageBody, messageInput, toMessage } from './rows.js';
import { EXPECTED_LAST_SEQ_SIGNAL, type MysqlLayout, type MysqlMigrationPlan, migrate } from './schema.js';
import { booleanQuery, frequencyNeedle, searchDocument } from './search.js';
import { type MysqlSql, mysqlSql, type SearchShape } from './statements.js';

/** What `execute` and `query` resolve to: the rows (or a result header) and the fields. */
export type MysqlResult = [unknown, unknown];

/** A connection checked out of a pool (the part of mysql2's `PoolConnection` the backend uses). */
export interface MysqlPoolConnection {
  execute(sql: string, values?: unknown[]): Promise<MysqlResult>;
  query(sql: string): Promise<MysqlResult>;
  release(): void;
  /** Closes the connection instead of returning it to the pool (after a failed ROLLBACK). */
  destroy(): void;
}

/**
 * A connection pool (the part of mysql2's promise `Pool` the backend uses); yours stays open after
 * `close()`. It must talk utf8mb4 (mysql2's default charset).
 */
export interface MysqlPool {
  execute(sql: string, values?: unknown[]): Promise<MysqlResult>;
  getConnection(): Promise<MysqlPoolConnection>;
  end(): Promise<void>;
}

/**
 * @example
 * await mysqlBackend({ url: 'mysql://app:secret@db:3306/chatstore' })
 */
export interface MysqlOptions {
  /** `mysql://user:password@host:port/database?poolSize=`; other parameters go to mysql2. */
  url?: string;
  /** A pool of your own instead of a URL; the backend never ends it. */
  pool?: MysqlPool;
  /** The database holding chatstore's tables (created when missing). Default: the URL's, else `chatstore`. */
  database?: string;
  /** Connections of the pool made from `url`. Default 10. */
  poolSize?: number;
}

/**
 * The mysql backend: a `Backend` plus the layout its database was created with.
 * @example const backend = await mysqlBackend({ url }); backend.layout.collation;
 */
export interface MysqlBackend extends Backend {
  /** The database, its collation and the FULLTEXT token sizes search tokens are made for. */
  readonly layout: Readonly<MysqlLayout>;
}

type MysqlDriver = typeof import('mysql2/promise');

const DEFAULT_DATABASE = 'chatstore';
const DEFAULT_POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;
/** General-path attempts of one append before its last failure is reported. */
const APPEND_ATTEMPTS = 8;
/** Attempts of one transaction that InnoDB chose as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 8;
const MISSING_DRIVER_MESSAGE = 'the mysql backend needs mysql2: npm install mysql2';
/** The URL parameters that are chatstore's (every other one goes to mysql2). */
const URL_OPTIONS = ['database', 'poolSize'] as const;

const NO_MATCHES = { byId: new Map<string, Message>(), byExternalId: new Map<string, Message>() };

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(
  () =>
    import('mysql2/promise').then((module) => ((module as { default?: MysqlDriver }).default ?? module) as MysqlDriver),
  MISSING_DRIVER_MESSAGE,
);

/**
 * Opens chatstore's database on MySQL or MariaDB, creating or upgrading its schema first.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { mysqlBackend } from 'chatstore/mysql';
 * const store = new ChatStore(await mysqlBackend({ url: process.env.MYSQL_URL }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function mysqlBackend(options: MysqlOptions): Promise<MysqlBackend> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  const ownsPool = settings.pool === undefined;
  let layout: MysqlLayout;
  try {
    const database = settings.database ?? (await currentDatabase(pool));
    layout = (await migrateWith(pool, database, ownsPool)).layout;
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw toChatStoreError(error);
  }
  return openBackend(pool, ownsPool, layout);
}

/**
 * The migration plan of a database: what opening would apply (`dryRun`), or applies it now.
 * @example const { statements } = await mysqlMigrations({ url, dryRun: true });
 */
export async function mysqlMigrations(options: MysqlOptions & { dryRun?: boolean }): Promise<MysqlMigrationPlan> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  try {
    const database = settings.database ?? (await currentDatabase(pool));
    return await migrateWith(pool, database, settings.pool === undefined, options.dryRun === true);
  } catch (error) {
    throw toChatStoreError(error);
  } finally {
    if (settings.pool === undefined) await pool.end().catch(() => undefined);
  }
}

/**
 * Options from a store URL's parts (what `openStore('mysql://…')` passes): chatstore's own
 * parameters become options, the rest stay in the URL for the driver.
 * @example mysqlUrlOptions('app:secret@db:3306/chat', new URLSearchParams('poolSize=20'))
 */
export function mysqlUrlOptions(location: string, params: URLSearchParams): MysqlOptions {
  // The location arrives percent-decoded: encode the user and password again for the URL parser.
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
  return { url: `mysql://${authority}${rest === '' ? '' : `?${rest}`}`, ...urlParams(params) };
}

/** Connection settings parsed from a URL, without a database: the backend creates it when missing. */
interface ConnectionSettings {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  /** Other URL parameters, for mysql2 (`true`, `false` and numbers as such). */
  extra: Record<string, unknown>;
}

interface MysqlSettings {
  connection: ConnectionSettings | undefined;
  pool: MysqlPool | undefined;
  database: string | undefined;
  poolSize: number;
}

function checkOptions(options: MysqlOptions): MysqlSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'mysql options must be an object', { path: 'options' });
  }
  let fromUrl: MysqlOptions = {};
  let connection: ConnectionSettings | undefined;
  if (options.url !== undefined) {
    if (typeof options.url !== 'string' || !/^(mysql|mariadb):\/\//i.test(options.url)) {
      throw new ChatStoreError('INVALID_ARGUMENT', 'the mysql url must start with mysql:// or mariadb://', {
        path: 'url',
      });
    }
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (cause) {
      // The text is not echoed: a malformed URL may hold a password that redaction cannot find.
      throw new ChatStoreError('INVALID_ARGUMENT', 'the mysql url is not a valid URL', { path: 'url', cause });
    }
    const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
    fromUrl = { ...urlParams(url.searchParams), ...(path === '' ? {} : { database: path }) };
    const extra: Record<string, unknown> = {};
    for (const [name, value] of url.searchParams) {
      if (!(URL_OPTIONS as readonly string[]).includes(name)) extra[name] = driverValue(value);
    }
    connection = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
      port: url.port === '' ? 3306 : Number(url.port),
      user: url.username === '' ? undefined : decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
      extra,
    };
  }
  if ((connection === undefined) === (options.pool === undefined)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'give the mysql backend a url or a pool (one of them)', {
      path: options.pool === undefined ? 'url' : 'pool',
    });
  }
  const database = options.database ?? fromUrl.database ?? (connection === undefined ? undefined : DEFAULT_DATABASE);
  if (database !== undefined && (typeof database !== 'string' || !/^[A-Za-z0-9_$]{1,64}$/.test(database))) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      'the mysql database must be a name of A-Z, a-z, 0-9, _ and $ (at most 64)',
      {
        path: 'database',
      },
    );
  }
  const poolSize = options.poolSize ?? fromUrl.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'poolSize must be a positive integer', { path: 'poolSize' });
  }
  return { connection, pool: options.pool, database, poolSize };
}

function urlParams(params: URLSearchParams): MysqlOptions {
  const database = params.get('database');
  const poolSize = params.get('poolSize');
  return {
    ...(database === null ? {} : { database }),
    ...(poolSize === null ? {} : { poolSize: /^\d+$/.test(poolSize) ? Number(poolSize) : Number.NaN }),
  };
}

function driverValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

async function makePool(settings: MysqlSettings): Promise<MysqlPool> {
  const mysql = await loadDriver();
  const connection = settings.connection as ConnectionSettings;
  return mysql.createPool({
    ...connection.extra,
    host: connection.host,
    port: connection.port,
    ...(connection.user === undefined ? {} : { user: connection.user }),
    ...(connection.password === undefined ? {} : { password: connection.password }),
    // Emoji and every other 4-byte character travel as they are.
    charset: 'utf8mb4',
    connectionLimit: settings.poolSize,
    maxIdle: settings.poolSize,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableKeepAlive: true,
  }) as unknown as MysqlPool;
}

async function currentDatabase(pool: MysqlPool): Promise<string> {
  const [result] = await pool.execute('SELECT DATABASE() AS name');
  const name = (result as { name: string | null }[])[0]?.name;
  if (typeof name !== 'string') {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      "give the mysql backend a database (the pool's connections have none)",
      {
        path: 'database',
      },
    );
  }
  return name;
}

async function migrateWith(
  pool: MysqlPool,
  database: string,
  ownsPool: boolean,
  dryRun = false,
): Promise<MysqlMigrationPlan> {
  const connection = await pool.getConnection();
  try {
    if (!ownsPool) await checkCharset(connection);
    return await migrate(connection, database, { dryRun });
  } finally {
    connection.release();
  }
}

/** A pool of yours must talk utf8mb4, or 4-byte characters would be lost on the way. */
async function checkCharset(connection: MysqlPoolConnection): Promise<void> {
  const [result] = await connection.execute(
    'SELECT @@character_set_client AS client, @@character_set_connection AS conn, @@character_set_results AS results',
  );
  const row = (result as Record<string, string | null>[])[0] ?? {};
  const wrong = Object.values(row).filter((charset) => charset !== 'utf8mb4');
  if (wrong.length > 0) {
    throw new ChatStoreError('INVALID_ARGUMENT', `the mysql pool must use charset utf8mb4, not ${wrong.join(', ')}`, {
      path: 'pool',
    });
  }
}

/** Runs a statement on the transaction's connection; resolves to the rows or the result header. */
type Run = (sql: string, values?: unknown[]) => Promise<unknown>;

/** The result header of a write. */
interface ResultHeader {
  affectedRows: number;
}

function openBackend(pool: MysqlPool, ownsPool: boolean, layout: MysqlLayout): MysqlBackend {
  const sql: MysqlSql = mysqlSql(layout);
  const tokens = layout.tokens;
  const shaped = new Map<string, ShapedSql>();
  const conversationUpdates = new Map<number, string>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new ChatStoreError('UNAVAILABLE', 'the mysql backend is closed');
  };

  const execute = async (text: string, values: unknown[] = []): Promise<unknown> => {
    ensureOpen();
    try {
      return (await pool.execute(text, values))[0];
    } catch (error) {
      throw toChatStoreError(error);
    }
  };

  const rows = async <R>(text: string, values: unknown[] = []): Promise<R[]> => (await execute(text, values)) as R[];

  /**
   * `work` in one transaction on one connection; a deadlock victim runs again (InnoDB rolled it back
   * whole), up to DEADLOCK_ATTEMPTS times. Errors leave mapped.
   */
  const transaction = async <T>(work: (run: Run) => Promise<T>): Promise<T> => {
    ensureOpen();
    for (let attempt = 1; ; attempt++) {
      let connection: MysqlPoolConnection;
      try {
        connection = await pool.getConnection();
      } catch (error) {
        throw toChatStoreError(error);
      }
      let broken = false;
      try {
        await connection.query('START TRANSACTION');
        const result = await work(async (text, values = []) => (await connection.execute(text, values))[0]);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => {
          broken = true;
        });
        if (attempt < DEADLOCK_ATTEMPTS && errorCode(error) === 'ER_LOCK_DEADLOCK') continue;
        throw toChatStoreError(error);
      } finally {
        if (broken) connection.destroy();
        else connection.release();
      }
    }
  };

  const shape = (key: string, build: () => ShapedSql): ShapedSql => {
    let built = shaped.get(key);
    if (built === undefined) {
      built = build();
      shaped.set(key, built);
    }
    return built;
  };

  const bind = (statement: ShapedSql, values: Record<string, unknown>): unknown[] =>
    statement.params.map((name) => values[name] ?? null);

  const loadConversation = async (id: string): Promise<Conversation | undefined> => {
    const found = await rows<ConversationRow & ParticipantRow>(sql.conversation, [id]);
    const [first] = found;
    if (first === undefined) return undefined;
    return toConversation({
      ...first,
      participants: found.filter((row) => row.participant_id !== null).map(participantTuple),
    });
  };

  const withParticipants = async (found: ConversationRow[]): Promise<Conversation[]> => {
    if (found.length === 0) return [];
    const byConversation = new Map<string, ParticipantTuple[]>();
    const ids = found.map((row) => row.conversation_id);
    for (const row of await rows<ParticipantRow & { conversation_id: string }>(sql.participantsOf, [
      JSON.stringify(ids),
    ])) {
      const list = byConversation.get(row.conversation_id) ?? [];
      list.push(participantTuple(row));
      byConversation.set(row.conversation_id, list);
    }
    return found.map((row) => toConversation({ ...row, participants: byConversation.get(row.conversation_id) ?? [] }));
  };

  const participantsJson = (participants: readonly Participant[]): string | null =>
    participants.length === 0
      ? null
      : JSON.stringify(participants.map((p): JsonValue[] => [p.id, p.kind, p.name ?? null, datetime(p.joinedAt)]));

  /** The plain case in one round trip; seqs of `relative` count from 0 and are shifted by the counter. */
  const appendInOneTrip = async (request: AppendRequest, relative: AppendPlan): Promise<AppendResult[]> => {
    const [sets] = await pool.execute(sql.appendCall, [
      request.conversationId,
      request.conversation.type,
      request.conversation.title ?? null,
      JSON.stringify(request.conversation.metadata),
      datetime(request.now),
      request.expectedLastSeq ?? null,
      relative.inserts.length,
      datetimeOrNull(relative.lastMessageAt),
      JSON.stringify(relative.inserts.map((message) => messageInput(message, message.seq, tokens))),
      participantsJson(request.participants),
    ]);
    const base = Number((sets as { base: number | string }[][])[0]?.[0]?.base);
    return relative.results.map((result) => ({
      message: { ...result.message, seq: result.message.seq + base },
      duplicate: result.duplicate,
    }));
  };

  /** Everything else: under the counter row's lock, the stored matches go to planAppend. */
  const appendUnderLock = (request: AppendRequest): Promise<AppendResult[]> =>
    transaction(async (run) => {
      const id = request.conversationId;
      const now = datetime(request.now);
      // A new conversation gets its row now, to be locked; a call that then stores nothing fails
      // (a new conversation holds no duplicate, so only a CONFLICT stores nothing) and rolls it back.
      await run(sql.ensureConversation, [
        id,
        request.conversation.type,
        request.conversation.title ?? null,
        JSON.stringify(request.conversation.metadata),
        now,
        now,
        now,
      ]);
      const [counter] = (await run(sql.lockConversation, [id])) as { last_seq: number | string }[];
      const lastSeq = Number(counter?.last_seq ?? 0);
      // The first plain read of the transaction, after the lock: it sees every append committed before.
      const byId = new Map<string, Message>();
      const found = (await run(sql.messagesByIds, [JSON.stringify(request.messages.map((m) => m.id))])) as MessageRow[];
      for (const row of found) byId.set(row.id, toMessage(row));
      const externalIds = externalIdsOf(request.messages);
      const byExternalId = new Map<string, Message>();
      if (externalIds.length > 0) {
        for (const row of (await run(sql.messagesByExternalIds, [JSON.stringify(externalIds), id])) as MessageRow[]) {
          const message = toMessage(row);
          if (message.externalId !== undefined) byExternalId.set(message.externalId, message);
        }
      }
      const plan = planAppend(request, lastSeq, { byId, byExternalId });
      if (plan.inserts.length === 0) return plan.results;
      await run(sql.insertMessages, [
        id,
        lastSeq,
        JSON.stringify(plan.inserts.map((message) => messageInput(message, message.seq - lastSeq, tokens))),
      ]);
      const lastMessageAt = datetimeOrNull(plan.lastMessageAt);
      await run(sql.afterAppend, [plan.lastSeq, plan.inserts.length, lastMessageAt, lastMessageAt, now, id]);
      const participants = participantsJson(request.participants);
      if (participants !== null) await run(sql.insertParticipants, [id, participants]);
      return plan.results;
    });

  const messages = async (text: string, values: unknown[]): Promise<Message[]> =>
    (await rows<MessageRow>(text, values)).map(toMessage);

  /** Locks a conversation's counter row inside a transaction; false when it does not exist. */
  const lock = async (run: Run, id: string): Promise<boolean> =>
    ((await run(sql.lockConversation, [id])) as unknown[]).length > 0;

  return {
    name: 'mysql',
    layout,

    async append(request: AppendRequest): Promise<AppendResult[]> {
      ensureOpen();
      const { expectedLastSeq: _checkedInSql, ...unchecked } = request;
      const relative = planAppend(unchecked, 0, NO_MATCHES);
      return appendFastThenUnderLock({
        // A call holding its own duplicates is planned under the lock: one of them may be stored already.
        ...(relative.inserts.length === request.messages.length
          ? { inOneTrip: () => appendInOneTrip(request, relative) }
          : {}),
        underLock: () => appendUnderLock(request),
        retryable: needsPlanUnderLock,
        attempts: APPEND_ATTEMPTS,
        toError: toChatStoreError,
      });
    },

    async getMessage(id: string): Promise<Message | undefined> {
      const [row] = await rows<MessageRow>(sql.message, [id]);
      return row === undefined ? undefined : toMessage(row);
    },

    async getMessageByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
      const [row] =
        conversationId === undefined
          ? await rows<MessageRow>(sql.firstMessageByExternalId, [externalId])
          : await rows<MessageRow>(sql.messageByExternalId, [externalId, conversationId]);
      return row === undefined ? undefined : toMessage(row);
    },

    async range(conversationId: string, range: RangeQuery): Promise<Message[]> {
      const rangeOf = rangeShape(range);
      const statement = shape(`range:${JSON.stringify(rangeOf)}`, () => sql.range(rangeOf));
      return messages(
        statement.text,
        bind(statement, {
          conversationId,
          afterSeq: range.afterSeq ?? 0,
          beforeSeq: range.beforeSeq ?? Number.MAX_SAFE_INTEGER,
          from: range.from === undefined ? undefined : datetime(range.from),
          to: range.to === undefined ? undefined : datetime(range.to),
          limit: range.limit,
        }),
      );
    },

    updateMessage(id, change): Promise<Message | undefined> {
      return untilUnchanged(`message ${id}`, async () => {
        const [row] = await rows<MessageRow & { version: number }>(sql.messageForUpdate, [id]);
        if (row === undefined) return undefined;
        const current = toMessage(row);
        const next = change(toMessage(row));
        if (next === undefined) return current;
        const stored: Message = { ...next, id: current.id, conversationId: current.conversationId, seq: current.seq };
        const body = messageBody(stored);
        const document = stored.content === current.content ? undefined : searchDocument(stored.content, tokens);
        const updated = (await execute(sql.updateMessage, [
          body,
          stored.status ?? null,
          datetimeOrNull(stored.deletedAt),
          document?.termCount ?? null,
          document?.text ?? null,
          current.conversationId,
          current.seq,
          row.version,
        ])) as ResultHeader;
        // No row: someone changed (or removed) the message since it was read; read it again.
        if (updated.affectedRows === 0) return CHANGED;
        return toMessage({
          conversation_id: current.conversationId,
          seq: current.seq,
          id: current.id,
          body,
          deleted_at: stored.deletedAt === undefined ? null : Date.parse(stored.deletedAt),
        });
      });
    },

    async removeMessage(id: string): Promise<boolean> {
      const [key] = await rows<{ conversation_id: string; seq: number }>(sql.messageKey, [id]);
      if (key === undefined) return false;
      return transaction(async (run) => {
        // The conversation first, as appends lock: the two never wait for each other in a circle.
        await lock(run, key.conversation_id);
        const removed = ((await run(sql.removeMessage, [key.conversation_id, key.seq, id])) as ResultHeader)
          .affectedRows;
        if (removed > 0) await run(sql.uncount, [removed, key.conversation_id]);
        return removed > 0;
      });
    },

    async search(search: SearchQuery): Promise<BackendSearchHit[]> {
      const searchShape: SearchShape = {
        terms: search.terms.length,
        conversation: search.conversationId !== undefined,
        sender: search.senderId !== undefined,
        from: search.from !== undefined,
        to: search.to !== undefined,
        after: search.after !== undefined,
      };
      const statement = shape(`search:${JSON.stringify(searchShape)}`, () => sql.search(searchShape));
      const values: Record<string, unknown> = {
        query: booleanQuery(search.terms, tokens),
        conversationId: search.conversationId,
        senderId: search.senderId,
        from: search.from === undefined ? undefined : datetime(search.from),
        to: search.to === undefined ? undefined : datetime(search.to),
        afterScore: search.after?.score,
        afterId: search.after?.id,
        limit: search.limit,
      };
      search.terms.forEach((term, index) => {
        values[`needle${index}`] = frequencyNeedle(term, tokens);
      });
      const found = await rows<MessageRow & { score: number }>(statement.text, bind(statement, values));
      return found.map((row) => ({ message: toMessage(row), score: Number(row.score) }));
    },

    getConversation: loadConversation,

    async listConversations(listing: ConversationQuery): Promise<Conversation[]> {
      const listShape: ConversationListShape = {
        participant: listing.participantId !== undefined,
        type: listing.type !== undefined,
        after: listing.after !== undefined,
        includeDeleted: listing.includeDeleted,
      };
      const statement = shape(`list:${JSON.stringify(listShape)}`, () => sql.listConversations(listShape));
      const found = await rows<ConversationRow>(
        statement.text,
        bind(statement, {
          participantId: listing.participantId,
          type: listing.type,
          afterActivityAt: listing.after === undefined ? undefined : datetime(listing.after.activityAt),
          afterId: listing.after?.id,
          limit: listing.limit,
        }),
      );
      return withParticipants(found);
    },

    async createConversation(request: CreateConversationRequest): Promise<Conversation> {
      const now = datetime(request.now);
      await transaction(async (run) => {
        try {
          await run(sql.createConversation, [
            request.id,
            request.type,
            request.title ?? null,
            JSON.stringify(request.metadata),
            now,
            now,
            now,
          ]);
        } catch (error) {
          if (errorCode(error) === 'ER_DUP_ENTRY') {
            throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
          }
          throw error;
        }
        const participants = participantsJson(request.participants);
        if (participants !== null) await run(sql.insertParticipants, [request.id, participants]);
      });
      return (await loadConversation(request.id)) as Conversation;
    },

    async updateConversation(id: string, patch: ConversationPatch, now: string): Promise<Conversation | undefined> {
      const patches = patch.metadata === undefined ? [] : mergePatches(patch.metadata);
      let text = conversationUpdates.get(patches.length);
      if (text === undefined) {
        text = sql.updateConversation(patches.length);
        conversationUpdates.set(patches.length, text);
      }
      await execute(text, [
        patch.type ?? null,
        patch.title === undefined ? 0 : 1,
        patch.title ?? null,
        ...patches,
        datetime(now),
        id,
      ]);
      return loadConversation(id);
    },

    async addParticipants(conversationId: string, participants: Participant[], now: string) {
      const found = await transaction(async (run) => {
        if (!(await lock(run, conversationId))) return false;
        await run(sql.touchConversation, [datetime(now), conversationId]);
        const list = participantsJson(participants);
        if (list !== null) await run(sql.insertParticipants, [conversationId, list]);
        return true;
      });
      return found ? loadConversation(conversationId) : undefined;
    },

    async removeParticipant(conversationId: string, participantId: string, now: string) {
      const found = await transaction(async (run) => {
        if (!(await lock(run, conversationId))) return false;
        await run(sql.touchConversation, [datetime(now), conversationId]);
        await run(sql.removeParticipant, [conversationId, participantId]);
        return true;
      });
      return found ? loadConversation(conversationId) : undefined;
    },

    async deleteConversation(id: string, options: { hard: boolean; now: string }): Promise<boolean> {
      return transaction(async (run) => {
        // Locked first: an append in flight finishes before, and none starts until the delete commits.
        if (!(await lock(run, id))) return false;
        if (options.hard) {
          await run(sql.deleteMessagesOf, [id]);
          await run(sql.deleteParticipantsOf, [id]);
          await run(sql.deleteConversation, [id]);
        } else {
          const now = datetime(options.now);
          await run(sql.softDeleteConversation, [now, now, id]);
          await run(sql.softDeleteMessagesOf, [now, id]);
        }
        return true;
      });
    },

    async stats(conversationId?: string): Promise<Stats> {
      const [row] =
        conversationId === undefined
          ? await rows<Record<string, string | number | null>>(sql.statsOfAll)
          : await rows<Record<string, string | number | null>>(sql.statsOfOne, [conversationId, conversationId]);
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
      return transaction(async (run) => {
        // The subject's own entries in every conversation, the one named after them included.
        const participantEntriesRemoved = ((await run(sql.deleteParticipantEverywhere, [subjectId])) as ResultHeader)
          .affectedRows;
        let messagesDeleted = 0;
        const conversationsDeleted: string[] = [];
        if (await lock(run, subjectId)) {
          messagesDeleted += ((await run(sql.deleteMessagesOf, [subjectId])) as ResultHeader).affectedRows;
          await run(sql.deleteParticipantsOf, [subjectId]);
          await run(sql.deleteConversation, [subjectId]);
          conversationsDeleted.push(subjectId);
        }
        // Locked (gaps included) so that what is counted is exactly what is deleted.
        const owners = (await run(sql.lockMessagesOfSubject, [subjectId, subjectId])) as { conversation_id: string }[];
        const perConversation = new Map<string, number>();
        for (const { conversation_id: id } of owners) perConversation.set(id, (perConversation.get(id) ?? 0) + 1);
        messagesDeleted += ((await run(sql.deleteMessagesOfSubject, [subjectId, subjectId])) as ResultHeader)
          .affectedRows;
        for (const [id, n] of perConversation) await run(sql.uncount, [n, id]);
        return { messagesDeleted, conversationsDeleted, participantEntriesRemoved };
      });
    },

    async conversationIds(after: string | undefined, limit: number): Promise<string[]> {
      return (await rows<{ conversation_id: string }>(sql.conversationIds, [after ?? '', limit])).map(
        (row) => row.conversation_id,
      );
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (ownsPool) await pool.end().catch(() => undefined);
    },
  };
}

/** A participant as `getConversation` and `participantsOf` select it. */
interface ParticipantRow {
  participant_id: string;
  kind: string;
  name: string | null;
  joined_at: number | string;
}

function participantTuple(row: ParticipantRow): ParticipantTuple {
  return [row.participant_id, row.kind, row.name, Number(row.joined_at)];
}

function externalIdsOf(drafts: readonly MessageDraft[]): string[] {
  return drafts.flatMap((draft) => (draft.externalId === undefined ? [] : [draft.externalId]));
}

/**
 * A merge patch as single-key patches applied one after another, which is the same merge (RFC 7396
 * merges each key on its own). MariaDB's JSON_MERGE_PATCH mishandles a patch that removes a key
 * (`null`) after merging into an object (`{"b":{"f":2},"a":null}` leaves `{"b":{"c":1}}`), but is
 * right for one key at a time. The count is padded with `{}` (no change) to a power of two, so
 * few statement shapes are prepared.
 * @example mergePatches({ a: null, b: { c: 1 } }) // ['{"a":null}', '{"b":{"c":1}}']
 */
export function mergePatches(patch: JsonObject): string[] {
  const chains: JsonObject[] = [];
  const walk = (object: JsonObject, wrap: (value: JsonValue) => JsonObject): void => {
    const entries = Object.entries(object);
    if (entries.length === 0) chains.push(wrap({}));
    for (const [key, value] of entries) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        walk(value, (inner) => wrap({ [key]: inner }));
      } else {
        chains.push(wrap({ [key]: value }));
      }
    }
  };
  walk(patch, (value) => value as JsonObject);
  // An empty patch changes nothing; `{}` itself is a no-op patch.
  const texts =
    chains.length === 1 && Object.keys(patch).length === 0 ? [] : chains.map((chain) => JSON.stringify(chain));
  let size = 1;
  while (size < texts.length) size *= 2;
  while (texts.length > 0 && texts.length < size) texts.push('{}');
  return texts;
}

/**
 * The one-trip path could not settle the call: a duplicate on a unique key (stored before or racing
 * in), a stale `expectedLastSeq`, or a deadlock with another writer.
 */
function needsPlanUnderLock(error: unknown): boolean {
  const code = errorCode(error);
  if (code === 'ER_DUP_ENTRY' || code === 'ER_LOCK_DEADLOCK') return true;
  return code === 'ER_SIGNAL_EXCEPTION' && error instanceof Error && error.message.includes(EXPECTED_LAST_SEQ_SIGNAL);
}
