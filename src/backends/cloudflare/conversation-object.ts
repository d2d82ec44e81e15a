/**
 * `ConversationObject`: the Durable Object that is the system of record of one conversation. It is
 * single-threaded and its SQLite storage is local, so every write is one `transactionSync` that
 * reads, plans (`planAppend`) and writes with no other request in between: seqs are dense and each
 * message is stored once, whatever the concurrency (invariants 1–3). Each write also notes a
 * `DirectoryChange` in its outbox, in the same transaction, and sends it to the directory before it
 * answers (`directory-link.ts`); when the directory cannot be reached the write stays committed, the
 * call answers `UNAVAILABLE` (a retry finds the messages and answers them as duplicates), and the
 * alarm sends the change later.
 */
import type { AppendRequest, ConversationDeletion, CreateConversationRequest, RangeQuery } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import { applyMergePatch } from '../../merge-patch.js';
import type { AppendResult, Conversation, ConversationPatch, Message, Participant } from '../../model.js';
import { planAppend, writesNothing } from '../../plan.js';
import { concernsSubject, isSubjectsConversation } from '../../subject.js';
import { atVersion } from '../conversation-version.js';
import type { ChatStoreBindings } from './bindings.js';
import { answerCall, type CallHandlers } from './calls.js';
import type { DirectoryChange, IdClaim } from './changes.js';
import { DirectoryLink } from './directory-link.js';
import type { DurableObjectState, DurableObjectStorage, SqlStorage } from './platform.js';

/** A conversation as its row holds it; participants have their own rows. */
type ConversationRecord = Omit<Conversation, 'participants'>;

/** What the erasure of a person did in one conversation. */
export interface ConversationErasure {
  messagesDeleted: number;
  participantEntriesRemoved: number;
  conversationDeleted: boolean;
}

/** What each call answers in an object where nothing was ever written; the calls not named here create the tables. */
const WHEN_EMPTY: Record<string, unknown> = {
  getMessage: undefined,
  getMessageByExternalId: undefined,
  range: [],
  replaceMessage: undefined,
  removeMessage: false,
  getConversation: undefined,
  updateConversation: undefined,
  addParticipants: undefined,
  removeParticipant: undefined,
  deleteConversation: false,
  eraseSubject: { messagesDeleted: 0, participantEntriesRemoved: 0, conversationDeleted: false },
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS conversation (id TEXT PRIMARY KEY, body TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, joined_at TEXT NOT NULL, body TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    external_id TEXT,
    created_at TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_by_external_id ON messages (external_id) WHERE external_id IS NOT NULL;
  CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, body TEXT NOT NULL);
`;

export class ConversationObject {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;
  readonly #link: DirectoryLink;
  readonly #calls: CallHandlers;
  /**
   * Whether this object's tables exist. They are created by the first write that creates the
   * conversation, not by a read: an object only read (a lookup of an id nobody wrote) stores nothing.
   */
  #hasSchema: boolean;

  constructor(state: DurableObjectState, bindings: ChatStoreBindings) {
    this.#storage = state.storage;
    this.#sql = state.storage.sql;
    this.#link = new DirectoryLink(state.storage, bindings);
    this.#hasSchema =
      this.#sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'`).toArray().length > 0;
    this.#calls = {
      append: (request: AppendRequest) => this.append(request),
      getMessage: (id: string) => this.#message('id', id),
      getMessageByExternalId: (externalId: string) => this.#message('external_id', externalId),
      range: (query: RangeQuery) => this.range(query),
      replaceMessage: (id: string, expected: Message, next: Message) => this.replaceMessage(id, expected, next),
      removeMessage: (id: string) => this.removeMessage(id),
      getConversation: () => this.#conversation(),
      createConversation: (request: CreateConversationRequest) => this.createConversation(request),
      updateConversation: (patch: ConversationPatch, now: string) =>
        this.#changeConversation(now, (record) => patchConversation(record, patch)),
      addParticipants: (participants: Participant[], now: string) =>
        this.#changeConversation(now, () => this.#addMissing(participants)),
      removeParticipant: (participantId: string, now: string) =>
        this.#changeConversation(now, () => {
          this.#sql.exec('DELETE FROM participants WHERE id = ?', participantId);
        }),
      deleteConversation: (options: ConversationDeletion) => this.deleteConversation(options),
      eraseSubject: (subjectId: string) => this.eraseSubject(subjectId),
    };
  }

  fetch(request: Request): Promise<Response> {
    const method = new URL(request.url).pathname.slice(1);
    if (!this.#hasSchema && Object.hasOwn(WHEN_EMPTY, method)) {
      // Nothing was ever written here: the answer of a conversation that does not exist.
      return Promise.resolve(Response.json({ ok: true, value: WHEN_EMPTY[method] }));
    }
    return answerCall(request, this.#calls);
  }

  /** Sends what the directory has not taken yet; a failure throws, and the runtime runs the alarm again. */
  async alarm(): Promise<void> {
    if (this.#hasSchema) await this.#sendChanges();
  }

  /**
   * Creates the tables in the transaction of a write that needs them; `#hasSchema` is set once
   * that transaction committed (a write that fails takes the tables back with it).
   */
  #ensureSchema(): void {
    if (!this.#hasSchema) this.#sql.exec(SCHEMA);
  }

  append(request: AppendRequest): Promise<AppendResult[]> {
    return this.#link.appending(() => this.#append(request));
  }

  async #append(request: AppendRequest): Promise<AppendResult[]> {
    // Who owns each id is the directory's to say (ids are unique across conversations); asked
    // before the transaction, so that the plan itself runs with no await in between.
    const claim = await this.#link.claim(
      request.conversationId,
      request.messages.map((draft) => draft.id),
    );
    let inserted: ReadonlySet<string> = new Set();
    try {
      const results = this.#storage.transactionSync(() => {
        this.#ensureSchema();
        for (const draft of request.messages) {
          const owner = claim.foreign[draft.id];
          if (owner !== undefined) {
            throw new ChatStoreError('CONFLICT', `message id ${draft.id} is already used in another conversation`);
          }
        }
        const existing = this.#record();
        const byId = new Map<string, Message>();
        const byExternalId = new Map<string, Message>();
        for (const draft of request.messages) {
          const sameId = this.#message('id', draft.id);
          if (sameId !== undefined) byId.set(draft.id, sameId);
          const sameExternal =
            draft.externalId === undefined ? undefined : this.#message('external_id', draft.externalId);
          if (sameExternal !== undefined && draft.externalId !== undefined)
            byExternalId.set(draft.externalId, sameExternal);
        }
        const plan = planAppend(request, existing?.lastSeq ?? 0, { byId, byExternalId });
        if (writesNothing(request, plan, existing !== undefined)) return plan.results;
        const restore = request.restore;
        const record: ConversationRecord = existing ?? {
          ...newRecord({ id: request.conversationId, ...request.conversation, now: restore?.createdAt ?? request.now }),
        };
        if (restore?.deletedAt === undefined) delete record.deletedAt;
        else record.deletedAt = restore.deletedAt;
        for (const message of plan.inserts) this.#insertMessage(message);
        record.lastSeq = plan.lastSeq;
        record.messageCount += plan.inserts.length;
        if (plan.lastMessageAt !== undefined) record.lastMessageAt = plan.lastMessageAt;
        record.updatedAt = restore?.updatedAt ?? request.now;
        this.#writeRecord(record);
        this.#addMissing(request.participants);
        this.#note(record.id, { conversation: this.#conversation() ?? null, messages: plan.inserts, removed: [] });
        inserted = new Set(plan.inserts.map((message) => message.id));
        return plan.results;
      });
      this.#hasSchema = true;
      // The append is stored: a claim that cannot be given back now stays (docs/cloudflare.md), and
      // the change goes to the directory whatever became of it.
      await this.#releaseUnused(request.conversationId, claim, inserted).catch(() => {});
      await this.#sendChanges();
      return results;
    } catch (error) {
      // The append's own error is what the caller gets; a claim that cannot be given back now stays
      // with this conversation (docs/cloudflare.md, "Message ids").
      await this.#releaseUnused(request.conversationId, claim, inserted).catch(() => {});
      throw error;
    }
  }

  range(query: RangeQuery): Message[] {
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    // The seq bounds make this a range scan of the primary key; the other conditions filter the range.
    return this.#sql
      .exec<{ body: string }>(
        `SELECT body FROM messages
          WHERE seq > ? AND seq < ? AND (? = 1 OR deleted = 0)
            AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?)
          ORDER BY seq ${order} LIMIT ?`,
        query.afterSeq ?? 0,
        query.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        query.includeDeleted ? 1 : 0,
        query.from ?? null,
        query.from ?? null,
        query.to ?? null,
        query.to ?? null,
        query.limit,
      )
      .toArray()
      .map((row) => JSON.parse(row.body) as Message);
  }

  /**
   * The write half of `Backend.updateMessage`: the store's change runs in the Worker on the message
   * as it was read (`expected`); the result is stored only if the message is still that, else
   * `'changed'` and the Worker reads again (`untilUnchanged`).
   */
  async replaceMessage(id: string, expected: Message, next: Message): Promise<Message | 'changed' | undefined> {
    const outcome = this.#storage.transactionSync(() => {
      const row = this.#sql.exec<{ body: string }>('SELECT body FROM messages WHERE id = ?', id).toArray()[0];
      if (row === undefined) return undefined;
      if (row.body !== JSON.stringify(expected)) return 'changed' as const;
      const kept: Message = { ...next, id: expected.id, conversationId: expected.conversationId, seq: expected.seq };
      this.#writeMessage(kept);
      this.#note(kept.conversationId, { conversation: this.#conversation() ?? null, messages: [kept], removed: [] });
      return kept;
    });
    if (outcome !== undefined && outcome !== 'changed') await this.#sendChanges();
    return outcome;
  }

  async removeMessage(id: string): Promise<boolean> {
    const removed = this.#storage.transactionSync(() => {
      const gone = this.#sql
        .exec<{ body: string }>('DELETE FROM messages WHERE id = ? RETURNING body', id)
        .toArray()[0];
      if (gone === undefined) return false;
      const record = this.#record();
      if (record !== undefined) {
        record.messageCount -= 1;
        this.#writeRecord(record);
      }
      const { conversationId } = JSON.parse(gone.body) as Message;
      this.#note(conversationId, { conversation: this.#conversation() ?? null, messages: [], removed: [id] });
      return true;
    });
    if (removed) await this.#sendChanges();
    return removed;
  }

  async createConversation(request: CreateConversationRequest): Promise<Conversation> {
    const created = this.#storage.transactionSync(() => {
      this.#ensureSchema();
      if (this.#record() !== undefined) {
        throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
      }
      this.#writeRecord(newRecord(request));
      this.#addMissing(request.participants);
      const conversation = this.#conversation() as Conversation;
      this.#note(request.id, { conversation, messages: [], removed: [] });
      return conversation;
    });
    this.#hasSchema = true;
    await this.#sendChanges();
    return created;
  }

  async deleteConversation({ hard, now, ifUnchanged }: ConversationDeletion): Promise<boolean> {
    const deleted = this.#storage.transactionSync(() => {
      const record = this.#record();
      if (record === undefined) return false;
      if (hard) {
        if (!atVersion(record, ifUnchanged)) return false;
        const removed = this.#removeAll();
        this.#note(record.id, { conversation: null, messages: [], removed });
        return true;
      }
      record.deletedAt ??= now;
      record.updatedAt = now;
      this.#writeRecord(record);
      const softDeleted = this.#sql
        .exec<{ body: string }>('SELECT body FROM messages WHERE deleted = 0 ORDER BY seq')
        .toArray()
        .map((row) => ({ ...(JSON.parse(row.body) as Message), deletedAt: now }));
      for (const message of softDeleted) this.#writeMessage(message);
      this.#note(record.id, { conversation: this.#conversation() ?? null, messages: softDeleted, removed: [] });
      return true;
    });
    if (deleted) await this.#sendChanges();
    return deleted;
  }

  /** Erasure's part in this conversation: all of it when it is the subject's own, else their messages and entry. */
  async eraseSubject(subjectId: string): Promise<ConversationErasure> {
    const erasure = this.#storage.transactionSync((): ConversationErasure => {
      const record = this.#record();
      if (record === undefined) return { messagesDeleted: 0, participantEntriesRemoved: 0, conversationDeleted: false };
      const entry = this.#sql.exec('SELECT 1 FROM participants WHERE id = ?', subjectId).toArray().length;
      if (isSubjectsConversation(record.id, subjectId)) {
        const removed = this.#removeAll();
        this.#note(record.id, { conversation: null, messages: [], removed });
        return { messagesDeleted: removed.length, participantEntriesRemoved: entry, conversationDeleted: true };
      }
      const removed = this.#sql
        .exec<{ id: string; body: string }>('SELECT id, body FROM messages')
        .toArray()
        .filter((row) => concernsSubject(JSON.parse(row.body) as Message, subjectId))
        .map((row) => row.id);
      for (const id of removed) this.#sql.exec('DELETE FROM messages WHERE id = ?', id);
      this.#sql.exec('DELETE FROM participants WHERE id = ?', subjectId);
      if (removed.length > 0 || entry > 0) {
        record.messageCount -= removed.length;
        this.#writeRecord(record);
        this.#note(record.id, { conversation: this.#conversation() ?? null, messages: [], removed });
      }
      return { messagesDeleted: removed.length, participantEntriesRemoved: entry, conversationDeleted: false };
    });
    await this.#sendChanges();
    return erasure;
  }

  /** Changes the conversation's row with `change`, sets its `updatedAt`; undefined when it does not exist. */
  async #changeConversation(
    now: string,
    change: (record: ConversationRecord) => void,
  ): Promise<Conversation | undefined> {
    const conversation = this.#storage.transactionSync(() => {
      const record = this.#record();
      if (record === undefined) return undefined;
      change(record);
      record.updatedAt = now;
      this.#writeRecord(record);
      const changed = this.#conversation() as Conversation;
      this.#note(record.id, { conversation: changed, messages: [], removed: [] });
      return changed;
    });
    if (conversation !== undefined) await this.#sendChanges();
    return conversation;
  }

  /** Removes the conversation and everything in it (the outbox stays, to tell the directory); answers the message ids removed. */
  #removeAll(): string[] {
    const removed = this.#sql
      .exec<{ id: string }>('DELETE FROM messages RETURNING id')
      .toArray()
      .map((row) => row.id);
    for (const table of ['participants', 'conversation']) this.#sql.exec(`DELETE FROM ${table}`);
    return removed;
  }

  #record(): ConversationRecord | undefined {
    const row = this.#sql.exec<{ body: string }>('SELECT body FROM conversation').toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.body) as ConversationRecord);
  }

  #writeRecord(record: ConversationRecord): void {
    this.#sql.exec(
      'INSERT INTO conversation (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body',
      record.id,
      JSON.stringify(record),
    );
  }

  /** The conversation with its participants, by join time then id (UTF-8 bytes: SQLite's binary order). */
  #conversation(): Conversation | undefined {
    const record = this.#record();
    if (record === undefined) return undefined;
    const participants = this.#sql
      .exec<{ body: string }>('SELECT body FROM participants ORDER BY joined_at, id')
      .toArray()
      .map((row) => JSON.parse(row.body) as Participant);
    const { id, type, title, channel, ...rest } = record;
    return {
      id,
      type,
      ...(title === undefined ? {} : { title }),
      ...(channel === undefined ? {} : { channel }),
      participants,
      ...rest,
    };
  }

  #addMissing(participants: Participant[]): void {
    for (const participant of participants) {
      this.#sql.exec(
        'INSERT INTO participants (id, joined_at, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
        participant.id,
        participant.joinedAt,
        JSON.stringify(participant),
      );
    }
  }

  #message(column: 'id' | 'external_id', value: string): Message | undefined {
    const row = this.#sql
      .exec<{ body: string }>(`SELECT body FROM messages WHERE ${column} = ? ORDER BY seq LIMIT 1`, value)
      .toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.body) as Message);
  }

  #insertMessage(message: Message): void {
    this.#sql.exec(
      'INSERT INTO messages (seq, id, external_id, created_at, deleted, body) VALUES (?, ?, ?, ?, ?, ?)',
      message.seq,
      message.id,
      message.externalId ?? null,
      message.createdAt,
      message.deletedAt === undefined ? 0 : 1,
      JSON.stringify(message),
    );
  }

  /** Rewrites a stored message (same id, seq and external id: only these change nothing else). */
  #writeMessage(message: Message): void {
    this.#sql.exec(
      'UPDATE messages SET deleted = ?, body = ? WHERE id = ?',
      message.deletedAt === undefined ? 0 : 1,
      JSON.stringify(message),
      message.id,
    );
  }

  #note(conversationId: string, change: DirectoryChange): void {
    this.#link.note(conversationId, change);
  }

  #sendChanges(): Promise<void> {
    return this.#link.send(() => this.#record() === undefined);
  }

  /**
   * Gives back the ids this append claimed but did not store (a duplicate by external id, a refused
   * append), but those stored here meanwhile by a concurrent append of the same ids.
   */
  #releaseUnused(conversationId: string, claim: IdClaim, inserted: ReadonlySet<string>): Promise<void> {
    return this.#link.releaseUnused(
      conversationId,
      claim,
      (id) => inserted.has(id) || (this.#hasSchema && this.#message('id', id) !== undefined),
    );
  }
}

function newRecord(request: {
  id: string;
  type: string;
  title?: string;
  channel?: string;
  metadata: Conversation['metadata'];
  now: string;
}): ConversationRecord {
  return {
    id: request.id,
    type: request.type,
    ...(request.title === undefined ? {} : { title: request.title }),
    ...(request.channel === undefined ? {} : { channel: request.channel }),
    metadata: request.metadata,
    createdAt: request.now,
    updatedAt: request.now,
    lastSeq: 0,
    messageCount: 0,
  };
}

function patchConversation(record: ConversationRecord, patch: ConversationPatch): void {
  if (patch.type !== undefined) record.type = patch.type;
  if (patch.title === null) delete record.title;
  else if (patch.title !== undefined) record.title = patch.title;
  if (patch.channel === null) delete record.channel;
  else if (patch.channel !== undefined) record.channel = patch.channel;
  if (patch.metadata !== undefined) record.metadata = applyMergePatch(record.metadata, patch.metadata);
}
