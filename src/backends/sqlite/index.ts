/**
 * The sqlite backend (DESIGN §5): one file through better-sqlite3, WAL, `synchronous=FULL` unless
 * asked otherwise, FTS5 for search. Several OS processes may share the file: every write runs in
 * `BEGIN IMMEDIATE` and waits up to `busyTimeoutMs` for another process's lock. Writes made in the
 * same event-loop turn share one transaction (group commit), so N concurrent appends cost one
 * fsync instead of N, while each call still succeeds or fails on its own (one SAVEPOINT per call).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type {
  AppendRequest,
  Backend,
  BackendSearchHit,
  ConversationQuery,
  CreateConversationRequest,
  ErasureCounts,
  RangeQuery,
  SearchQuery,
} from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { AppendResult, Conversation, ConversationPatch, Message, Participant, Stats } from '../../model.js';
import { planAppend } from '../../plan.js';
import { lazyDriver } from '../lazy-driver.js';
import {
  type ConversationRow,
  type MessageParams,
  type MessageRow,
  messageParams,
  type ParticipantRow,
  toConversation,
  toMessage,
} from './rows.js';
import { migrateSqlite } from './schema.js';
import {
  type ConversationListShape,
  conversationListSql,
  type RangeParams,
  type RangeShape,
  rangeSql,
  type SearchParams,
  type SearchRow,
  SQLITE_SQL,
  type StatsRow,
} from './statements.js';

/** @example await sqliteBackend({ path: './data/chat.db', durability: 'normal' }) */
export interface SqliteOptions {
  /** A file path (its directory is created when missing), or `':memory:'`. */
  path: string;
  /**
   * `'full'` (default, `PRAGMA synchronous=FULL`): an acknowledged write survives a power loss.
   * `'normal'`: fewer fsyncs; a power loss may roll back the last commits, never corrupt the file.
   */
  durability?: 'full' | 'normal';
  /** How long a write waits for another process's lock before failing with `UNAVAILABLE`. Default 10 000. */
  busyTimeoutMs?: number;
}

type SqliteDriver = typeof Database;
type SqliteDatabase = Database.Database;

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
/** How long after a write the background indexer runs, and how many messages it indexes at once. */
const INDEX_DELAY_MS = 200;
const INDEX_BATCH = 5_000;

/** Driver error codes (and their extended forms, `SQLITE_IOERR_WRITE`…) meaning the engine cannot serve now. */
const UNAVAILABLE_CODES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  // A WAL lock race that outlasted SQLite's own retries: the same kind of failure as SQLITE_BUSY.
  'SQLITE_PROTOCOL',
];

const MISSING_DRIVER_MESSAGE = 'the sqlite backend needs better-sqlite3: npm install better-sqlite3@12';

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(() => import('better-sqlite3').then((module) => module.default), MISSING_DRIVER_MESSAGE);

/** A write waiting for the next group commit. */
interface WriteJob {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Opens (or creates) a chatstore sqlite file and brings its schema up to date.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { sqliteBackend } from 'chatstore/sqlite';
 * const store = new ChatStore(await sqliteBackend({ path: './data/chat.db' }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function sqliteBackend(options: SqliteOptions): Promise<Backend> {
  const settings = checkOptions(options);
  const Driver = await loadDriver();
  const db = openDatabase(Driver, settings);
  const sql = prepareStatements(db);
  const listings = new Map<string, Database.Statement<[ListParams], ConversationRow>>();

  let closed = false;
  let queue: WriteJob[] = [];
  let flushScheduled: NodeJS.Immediate | undefined;

  const ensureOpen = (): void => {
    if (closed) throw new ChatStoreError('UNAVAILABLE', 'the sqlite backend is closed');
  };

  /** A synchronous read, with driver errors mapped. */
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
  const snapshot = <T>(body: () => T): T => read(() => inSnapshot(body) as T);

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

  /** Queues a synchronous write for the group commit of this event-loop turn. */
  const write = <T>(run: () => T): Promise<T> => {
    ensureOpen();
    return new Promise<T>((resolve, reject) => {
      queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      flushScheduled ??= setImmediate(flush);
    });
  };

  const loadConversation = (id: string): Conversation | undefined => {
    const row = sql.conversation.get(id);
    return row === undefined ? undefined : toConversation(row, sql.participants.all(id));
  };

  const addParticipantRows = (conversationId: string, participants: Participant[]): void => {
    for (const participant of participants) {
      sql.insertParticipant.run({
        conversationId,
        id: participant.id,
        kind: participant.kind,
        name: participant.name ?? null,
        joinedAt: participant.joinedAt,
      });
    }
  };

  /** Adds one batch of pending messages to the search index (inside a write transaction). */
  const indexPendingBatch = (): void => {
    const end = sql.pendingBatchEnd.get(INDEX_BATCH)?.pk;
    if (end === null || end === undefined) return;
    sql.indexPending.run(end);
    sql.clearPending.run(end);
  };

  let indexerTimer: NodeJS.Timeout | undefined;
  /** After writes, index their messages in the background soon, in one transaction for many appends. */
  const scheduleIndexing = (): void => {
    if (indexerTimer !== undefined || closed) return;
    indexerTimer = setTimeout(() => {
      indexerTimer = undefined;
      if (closed) return;
      write(() => {
        indexPendingBatch();
        return sql.anyPending.get() !== undefined;
      }).then(
        (more) => {
          if (more) scheduleIndexing();
        },
        // A busy file or a full disk: the rows stay pending and the next search indexes them.
        () => undefined,
      );
    }, INDEX_DELAY_MS);
    indexerTimer.unref();
  };

  const appendNow = (request: AppendRequest): AppendResult[] => {
    const conversationId = request.conversationId;
    const existing = sql.conversation.get(conversationId);
    const ids = request.messages.map((message) => message.id);
    const externalIds = request.messages.flatMap((message) =>
      message.externalId === undefined ? [] : [message.externalId],
    );
    const byId = new Map<string, Message>();
    for (const row of sql.messagesByIds.all(JSON.stringify(ids))) {
      const message = toMessage(row);
      byId.set(message.id, message);
    }
    const byExternalId = new Map<string, Message>();
    if (existing !== undefined && externalIds.length > 0) {
      for (const row of sql.messagesByExternalIds.all(JSON.stringify(externalIds), conversationId)) {
        const message = toMessage(row);
        byExternalId.set(message.externalId as string, message);
      }
    }
    const plan = planAppend(request, existing?.last_seq ?? 0, { byId, byExternalId });
    if (plan.inserts.length === 0) return plan.results;
    if (existing === undefined) {
      sql.insertConversation.run({
        id: conversationId,
        type: request.conversation.type,
        title: request.conversation.title ?? null,
        metadata: JSON.stringify(request.conversation.metadata),
        now: request.now,
      });
    }
    for (const message of plan.inserts) sql.insertMessage.run(messageParams(message));
    scheduleIndexing();
    addParticipantRows(conversationId, request.participants);
    sql.afterAppend.run({
      id: conversationId,
      lastSeq: plan.lastSeq,
      inserted: plan.inserts.length,
      lastMessageAt: plan.lastMessageAt ?? null,
      now: request.now,
    });
    return plan.results;
  };

  const updateMessageNow = (id: string, change: (current: Message) => Message | undefined): Message | undefined => {
    const row = sql.messageById.get(id);
    if (row === undefined) return undefined;
    const current = toMessage(row);
    const next = change(toMessage(row));
    if (next === undefined) return current;
    sql.updateMessage.run(
      messageParams({ ...next, id: current.id, conversationId: current.conversationId, seq: current.seq }),
    );
    const stored = sql.messageById.get(id);
    return stored === undefined ? undefined : toMessage(stored);
  };

  const eraseSubjectNow = (subjectId: string): ErasureCounts => {
    // participantEntriesRemoved counts the subject's own entries in every conversation, including a
    // conversation deleted below because it is named after the subject; the other members of that
    // conversation are not the subject's entries and are not counted.
    const participantEntriesRemoved = sql.deleteParticipantEverywhere.run(subjectId).changes;
    let messagesDeleted = 0;
    const conversationsDeleted: string[] = [];
    if (sql.conversation.get(subjectId) !== undefined) {
      messagesDeleted += sql.deleteMessagesOf.run(subjectId).changes;
      sql.deleteParticipantsOf.run(subjectId);
      sql.deleteConversation.run(subjectId);
      conversationsDeleted.push(subjectId);
    }
    sql.uncountMessagesOfSubject.run({ subjectId });
    messagesDeleted += sql.deleteMessagesOfSubject.run({ subjectId }).changes;
    return { messagesDeleted, conversationsDeleted, participantEntriesRemoved };
  };

  const ranges = new Map<string, Database.Statement<[RangeParams], string>>();
  const rangeStatement = (shape: RangeShape): Database.Statement<[RangeParams], string> => {
    const text = rangeSql(shape);
    let statement = ranges.get(text);
    if (statement === undefined) {
      // pluck: the one selected column as a plain string, no row object to build
      statement = db.prepare<[RangeParams], string>(text).pluck();
      ranges.set(text, statement);
    }
    return statement;
  };

  const listing = (shape: ConversationListShape): Database.Statement<[ListParams], ConversationRow> => {
    const text = conversationListSql(shape);
    let statement = listings.get(text);
    if (statement === undefined) {
      statement = db.prepare<ListParams, ConversationRow>(text);
      listings.set(text, statement);
    }
    return statement;
  };

  return {
    name: 'sqlite',

    async append(request: AppendRequest): Promise<AppendResult[]> {
      return write(() => appendNow(request));
    },

    async getMessage(id: string): Promise<Message | undefined> {
      return read(() => {
        const row = sql.messageById.get(id);
        return row === undefined ? undefined : toMessage(row);
      });
    },

    async getMessageByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
      return read(() => {
        const row =
          conversationId === undefined
            ? sql.firstMessageByExternalId.get(externalId)
            : sql.messageByExternalId.get(externalId, conversationId);
        return row === undefined ? undefined : toMessage(row);
      });
    },

    async range(conversationId: string, query: RangeQuery): Promise<Message[]> {
      return read(() => {
        const shape: RangeShape = {
          order: query.order,
          includeDeleted: query.includeDeleted,
          from: query.from !== undefined,
          to: query.to !== undefined,
        };
        const bodies = rangeStatement(shape).all({
          conversationId,
          afterSeq: query.afterSeq ?? 0,
          beforeSeq: query.beforeSeq ?? Number.MAX_SAFE_INTEGER,
          ...(query.from === undefined ? {} : { from: query.from }),
          ...(query.to === undefined ? {} : { to: query.to }),
          limit: query.limit,
        });
        return bodies.map((body) => JSON.parse(body) as Message);
      });
    },

    async updateMessage(id, change): Promise<Message | undefined> {
      return write(() => updateMessageNow(id, change));
    },

    async removeMessage(id: string): Promise<boolean> {
      return write(() => {
        const removed = sql.removeMessage.get(id);
        if (removed === undefined) return false;
        sql.uncountMessage.run(removed.conversation_id);
        return true;
      });
    },

    async search(query: SearchQuery): Promise<BackendSearchHit[]> {
      // Messages appended moments ago may still wait for the index: add them first, so a search
      // never misses a stored message (the common case, nothing pending, costs one lookup).
      while (read(() => sql.anyPending.get()) !== undefined) await write(indexPendingBatch);
      return read(() =>
        sql.search
          .all({
            // Quoted, every term is a plain word to FTS5 (never an operator); space-separated terms must all match.
            match: query.terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' '),
            conversationId: query.conversationId ?? null,
            senderId: query.senderId ?? null,
            from: query.from ?? null,
            to: query.to ?? null,
            afterScore: query.after?.score ?? null,
            afterId: query.after?.id ?? null,
            limit: query.limit,
          })
          .map((row) => ({ message: toMessage(row), score: row.score })),
      );
    },

    async getConversation(id: string): Promise<Conversation | undefined> {
      return snapshot(() => loadConversation(id));
    },

    async listConversations(query: ConversationQuery): Promise<Conversation[]> {
      return snapshot(() => {
        const rows = listing({
          participant: query.participantId !== undefined,
          type: query.type !== undefined,
          after: query.after !== undefined,
          includeDeleted: query.includeDeleted,
        }).all({
          participantId: query.participantId ?? null,
          type: query.type ?? null,
          afterActivityAt: query.after?.activityAt ?? null,
          afterId: query.after?.id ?? null,
          limit: query.limit,
        });
        const participants = new Map<string, ParticipantRow[]>();
        for (const row of sql.participantsOfMany.all(JSON.stringify(rows.map((conversation) => conversation.id)))) {
          const list = participants.get(row.conversation_id);
          if (list === undefined) participants.set(row.conversation_id, [row]);
          else list.push(row);
        }
        return rows.map((row) => toConversation(row, participants.get(row.id) ?? []));
      });
    },

    async createConversation(request: CreateConversationRequest): Promise<Conversation> {
      return write(() => {
        const inserted = sql.insertConversation.run({
          id: request.id,
          type: request.type,
          title: request.title ?? null,
          metadata: JSON.stringify(request.metadata),
          now: request.now,
        }).changes;
        if (inserted === 0) throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
        addParticipantRows(request.id, request.participants);
        return loadConversation(request.id) as Conversation;
      });
    },

    async updateConversation(id: string, patch: ConversationPatch, now: string): Promise<Conversation | undefined> {
      return write(() => {
        const updated = sql.updateConversation.run({
          id,
          type: patch.type ?? null,
          setTitle: patch.title === undefined ? 0 : 1,
          title: patch.title ?? null,
          // json_patch is RFC 7396, applied in the engine: concurrent patches never overwrite each other.
          patch: patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
          now,
        }).changes;
        return updated === 0 ? undefined : loadConversation(id);
      });
    },

    async addParticipants(conversationId: string, participants: Participant[], now: string) {
      return write(() => {
        if (sql.touchConversation.run({ id: conversationId, now }).changes === 0) return undefined;
        addParticipantRows(conversationId, participants);
        return loadConversation(conversationId);
      });
    },

    async removeParticipant(conversationId: string, participantId: string, now: string) {
      return write(() => {
        if (sql.touchConversation.run({ id: conversationId, now }).changes === 0) return undefined;
        sql.removeParticipant.run(conversationId, participantId);
        return loadConversation(conversationId);
      });
    },

    async deleteConversation(id: string, options: { hard: boolean; now: string }): Promise<boolean> {
      return write(() => {
        if (sql.conversation.get(id) === undefined) return false;
        if (options.hard) {
          sql.deleteMessagesOf.run(id);
          sql.deleteParticipantsOf.run(id);
          sql.deleteConversation.run(id);
        } else {
          sql.softDeleteConversation.run({ id, now: options.now });
          sql.softDeleteMessagesOf.run({ id, now: options.now });
        }
        return true;
      });
    },

    async stats(conversationId?: string): Promise<Stats> {
      return read(() => {
        const row = (
          conversationId === undefined ? sql.statsOfAll.get() : sql.statsOfOne.get({ id: conversationId })
        ) as StatsRow;
        return {
          total: row.total,
          incoming: row.incoming,
          outgoing: row.outgoing,
          withMedia: row.withMedia,
          commands: row.commands,
          adminCommands: row.adminCommands,
          failed: row.failed,
          deleted: row.deleted,
          byRole: { user: row.user, assistant: row.assistant, system: row.system, tool: row.tool },
          conversations: row.conversations,
        };
      });
    },

    async eraseSubject(subjectId: string): Promise<ErasureCounts> {
      return write(() => eraseSubjectNow(subjectId));
    },

    async conversationIds(after: string | undefined, limit: number): Promise<string[]> {
      return read(() => sql.conversationIds.all(after ?? '', limit).map((row) => row.id));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (indexerTimer !== undefined) clearTimeout(indexerTimer);
      // Writes already queued were accepted before close: commit them first.
      if (flushScheduled !== undefined) {
        clearImmediate(flushScheduled);
        flush();
      }
      db.close();
    },
  };
}

/** Bound values of a conversation listing (a shape may leave some unused). */
interface ListParams {
  participantId: string | null;
  type: string | null;
  afterActivityAt: string | null;
  afterId: string | null;
  limit: number;
}

interface SqliteSettings {
  path: string;
  durability: 'full' | 'normal';
  busyTimeoutMs: number;
}

function checkOptions(options: SqliteOptions): SqliteSettings {
  if (typeof options?.path !== 'string' || options.path === '') {
    throw new ChatStoreError('INVALID_ARGUMENT', 'the sqlite path must be a file path or :memory:', { path: 'path' });
  }
  const durability = options.durability ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new ChatStoreError('INVALID_ARGUMENT', "sqlite durability must be 'full' or 'normal'", {
      path: 'durability',
    });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'busyTimeoutMs must be a non-negative integer', {
      path: 'busyTimeoutMs',
    });
  }
  return { path: options.path, durability, busyTimeoutMs };
}

function openDatabase(Driver: SqliteDriver, settings: SqliteSettings): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  try {
    if (settings.path !== ':memory:') mkdirSync(dirname(settings.path), { recursive: true });
    // `timeout` is SQLite's busy_timeout: how long a statement waits for another connection's lock.
    db = new Driver(settings.path, { timeout: settings.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${settings.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    // Deleted rows are zeroed on pages being written anyway, at no extra I/O: erasure leaves less behind.
    db.pragma('secure_delete = FAST');
    migrateSqlite(db);
    return db;
  } catch (error) {
    db?.close();
    throw toChatStoreError(error);
  }
}

// No foreign keys: the few deletes that cascade (a conversation's messages and participants) are
// explicit statements, and appends skip a parent lookup per inserted row.
function prepareStatements(db: SqliteDatabase) {
  return {
    conversation: db.prepare<[string], ConversationRow>(SQLITE_SQL.conversation),
    participants: db.prepare<[string], ParticipantRow>(SQLITE_SQL.participants),
    participantsOfMany: db.prepare<[string], ParticipantRow>(SQLITE_SQL.participantsOfMany),
    insertConversation: db.prepare<{
      id: string;
      type: string;
      title: string | null;
      metadata: string;
      now: string;
    }>(SQLITE_SQL.insertConversation),
    afterAppend: db.prepare<{
      id: string;
      lastSeq: number;
      inserted: number;
      lastMessageAt: string | null;
      now: string;
    }>(SQLITE_SQL.afterAppend),
    updateConversation: db.prepare<{
      id: string;
      type: string | null;
      setTitle: number;
      title: string | null;
      patch: string | null;
      now: string;
    }>(SQLITE_SQL.updateConversation),
    touchConversation: db.prepare<{ id: string; now: string }>(SQLITE_SQL.touchConversation),
    insertParticipant: db.prepare<{
      conversationId: string;
      id: string;
      kind: string;
      name: string | null;
      joinedAt: string;
    }>(SQLITE_SQL.insertParticipant),
    removeParticipant: db.prepare<[string, string]>(SQLITE_SQL.removeParticipant),
    softDeleteConversation: db.prepare<{ id: string; now: string }>(SQLITE_SQL.softDeleteConversation),
    softDeleteMessagesOf: db.prepare<{ id: string; now: string }>(SQLITE_SQL.softDeleteMessagesOf),
    deleteMessagesOf: db.prepare<[string]>(SQLITE_SQL.deleteMessagesOf),
    deleteParticipantsOf: db.prepare<[string]>(SQLITE_SQL.deleteParticipantsOf),
    deleteConversation: db.prepare<[string]>(SQLITE_SQL.deleteConversation),
    conversationIds: db.prepare<[string, number], { id: string }>(SQLITE_SQL.conversationIds),
    messageById: db.prepare<[string], MessageRow>(SQLITE_SQL.messageById),
    messagesByIds: db.prepare<[string], MessageRow>(SQLITE_SQL.messagesByIds),
    messagesByExternalIds: db.prepare<[string, string], MessageRow>(SQLITE_SQL.messagesByExternalIds),
    messageByExternalId: db.prepare<[string, string], MessageRow>(SQLITE_SQL.messageByExternalId),
    firstMessageByExternalId: db.prepare<[string], MessageRow>(SQLITE_SQL.firstMessageByExternalId),
    pendingBatchEnd: db.prepare<[number], { pk: number | null }>(SQLITE_SQL.pendingBatchEnd),
    anyPending: db.prepare<[], { pending: number }>(SQLITE_SQL.anyPending),
    indexPending: db.prepare<[number]>(SQLITE_SQL.indexPending),
    clearPending: db.prepare<[number]>(SQLITE_SQL.clearPending),
    insertMessage: db.prepare<MessageParams>(SQLITE_SQL.insertMessage),
    updateMessage: db.prepare<MessageParams>(SQLITE_SQL.updateMessage),
    removeMessage: db.prepare<[string], { conversation_id: string }>(SQLITE_SQL.removeMessage),
    uncountMessage: db.prepare<[string]>(SQLITE_SQL.uncountMessage),
    search: db.prepare<SearchParams, SearchRow>(SQLITE_SQL.search),
    statsOfAll: db.prepare<[], StatsRow>(SQLITE_SQL.statsOfAll),
    statsOfOne: db.prepare<{ id: string }, StatsRow>(SQLITE_SQL.statsOfOne),
    deleteParticipantEverywhere: db.prepare<[string]>(SQLITE_SQL.deleteParticipantEverywhere),
    uncountMessagesOfSubject: db.prepare<{ subjectId: string }>(SQLITE_SQL.uncountMessagesOfSubject),
    deleteMessagesOfSubject: db.prepare<{ subjectId: string }>(SQLITE_SQL.deleteMessagesOfSubject),
  };
}

/**
 * The one place where errors of the driver and the file system become chatstore errors: an engine
 * that cannot serve now is `UNAVAILABLE` (DESIGN §4.7) with the original as `cause`. ChatStoreErrors
 * and anything else (a bug) pass through unchanged.
 */
function toChatStoreError(error: unknown): unknown {
  if (error instanceof ChatStoreError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const unavailable =
    (typeof code === 'string' && UNAVAILABLE_CODES.some((known) => code === known || code.startsWith(`${known}_`))) ||
    error.message.includes('database connection is not open') ||
    // A Node system error: the file system refused the directory or the file.
    (typeof code === 'string' && 'syscall' in error);
  return unavailable ? new ChatStoreError('UNAVAILABLE', `sqlite: ${error.message}`, { cause: error }) : error;
}
