/**
 * ChatStore: the one API over every engine (docs/api.md). Validation, ids, normalization, command
 * detection, the status rule, cursors and token budgets live here, once; the backend only stores
 * and finds. Every message and conversation an engine returns leaves through `canonicalMessage` /
 * `canonicalConversation`, so its JSON is the same text on every engine (invariant 6).
 */
import type { Backend, CompactionReport, MessageDraft } from './backend.js';
import { canonicalConversation, canonicalMaybe, canonicalMessage, canonicalStats } from './canonical.js';
import { type CommandDetector, commandDetector } from './commands.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { ChatStoreError } from './errors.js';
import { newMessageId } from './ids.js';
import { type Limits, resolveLimits } from './limits.js';
import { applyMergePatch } from './merge-patch.js';
import type {
  AppendResult,
  ContextMessage,
  Conversation,
  ConversationPage,
  ConversationPatch,
  ErasureReceipt,
  Message,
  MessageStatus,
  NewConversation,
  NewMessage,
  NewParticipant,
  Page,
  SearchPage,
  Stats,
} from './model.js';
import { searchSnippet } from './snippet.js';
import { applyStatus } from './status.js';
import {
  dedupeParticipants,
  impliedParticipants,
  participant,
  restoredDraft,
  structuredBytes,
} from './store-drafts.js';
import type {
  AppendOptions,
  AroundOptions,
  ChatStoreOptions,
  ContextOptions,
  DeleteOptions,
  EditOptions,
  EraseOptions,
  ExportFilter,
  ExportRecord,
  ListConversationsOptions,
  ListOptions,
  RestoreOptions,
  SearchOptions,
  StatusOptions,
} from './store-options.js';
import { searchTerms } from './text.js';
import { approximateTokens, type TokenCounter } from './tokens.js';
import { invalid, type Validator, type ValidMessage, validator } from './validate.js';

export type * from './store-options.js';

const DEFAULT_PAGE = 50;
const DEFAULT_RECENT = 20;
const DEFAULT_AROUND = 5;
const DEFAULT_CONTEXT_MESSAGES = 50;
const EXPORT_PAGE = 500;

/**
 * @example
 * import { ChatStore } from 'chatstore';
 * import { memoryBackend } from 'chatstore/memory';
 * const store = new ChatStore(memoryBackend());
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 * const last = await store.recent('+15550001', 20);
 */
export class ChatStore {
  readonly #backend: Backend;
  readonly #validate: Validator;
  readonly #limits: Limits;
  readonly #detectCommand: CommandDetector;
  readonly #countTokens: TokenCounter;
  readonly #now: () => Date;
  readonly #newId: () => string;
  #closed = false;

  constructor(backend: Backend, options: ChatStoreOptions = {}) {
    this.#backend = backend;
    this.#limits = resolveLimits(options.limits);
    this.#validate = validator(this.#limits);
    this.#detectCommand = commandDetector(options.commands);
    this.#countTokens = options.countTokens ?? approximateTokens;
    this.#now = options.now ?? (() => new Date());
    this.#newId = options.newId ?? newMessageId;
  }

  /** The engine's name (`memory`, `sqlite`, …). */
  get backendName(): string {
    return this.#backend.name;
  }

  /** Bytes the engine's storage takes (SQLite: the file with its WAL), or undefined when the engine cannot tell. */
  async storageBytes(): Promise<number | undefined> {
    this.#open();
    return this.#backend.storageBytes?.();
  }

  /** The limits this store enforces. */
  get limits(): Readonly<Limits> {
    return this.#limits;
  }

  /**
   * Appends one message or a batch, atomically: all new messages get consecutive seqs, or none is
   * stored. Messages whose `id`, or `externalId` within the conversation, is stored already come
   * back as the stored message with `duplicate: true`.
   * @example
   * const [{ message, duplicate }] = await store.append('+15550001', { role: 'user', content: 'hi', externalId: 'wamid.1' });
   */
  async append(
    conversationId: string,
    input: NewMessage | NewMessage[],
    options: AppendOptions = {},
  ): Promise<AppendResult[]> {
    this.#open();
    const id = this.#validate.id(conversationId, 'conversationId');
    const valid = this.#validate.messages(input);
    const expectedLastSeq =
      options.expectedLastSeq === undefined
        ? undefined
        : this.#validate.seq(options.expectedLastSeq, 'expectedLastSeq');
    const conversation = this.#validate.conversation(options.conversation, 'conversation');
    const now = this.#timestamp();
    const messages = valid.map((message) => this.#draft(message, now));
    const participants = dedupeParticipants([
      ...(conversation.participants ?? []).map((p) => participant(p, now)),
      ...messages.flatMap((message) => impliedParticipants(message, now)),
    ]);
    const results = await this.#backend.append({
      conversationId: id,
      messages,
      ...(expectedLastSeq === undefined ? {} : { expectedLastSeq }),
      conversation: {
        type: conversation.type ?? 'private',
        ...(conversation.title === undefined ? {} : { title: conversation.title }),
        metadata: conversation.metadata ?? {},
      },
      participants,
      now,
    });
    return results.map((result) => ({ message: canonicalMessage(result.message), duplicate: result.duplicate }));
  }

  /**
   * Restores messages of one conversation as reads and exports return them (`exportRecords`), with
   * every stored field kept: seq, id, times (createdAt, editedAt, deletedAt), status with its
   * statusAt and error, command (never detected again: absent stays absent). Atomic, like `append`.
   * Each seq must be above the conversation's `lastSeq` (else `CONFLICT`) unless the message is
   * stored already (same id, or externalId in the conversation): then it comes back with
   * `duplicate: true` and nothing is written, so restoring the same records again stores nothing.
   * Status, edits and deletes are taken as stored, not re-applied; every field is validated as
   * `append` validates it, seqs must increase. `messages` may be empty with a `conversation`:
   * that restores the conversation alone.
   * @example
   * for (const batch of batches) await store.restore(id, batch, { conversation, more: batch !== last });
   */
  async restore(conversationId: string, messages: Message[], options: RestoreOptions = {}): Promise<AppendResult[]> {
    this.#open();
    const id = this.#validate.id(conversationId, 'conversationId');
    const record =
      options.conversation === undefined
        ? undefined
        : this.#validate.storedConversation(options.conversation, 'conversation');
    if (record !== undefined && record.id !== id) throw invalid('conversation.id', 'must be the conversationId');
    const valid = this.#validate.storedMessages(messages, id);
    if (valid.length === 0 && record === undefined) throw invalid('messages', 'must contain at least one message');
    const now = this.#timestamp();
    const drafts = valid.map(restoredDraft);
    const participants = dedupeParticipants(
      record?.participants ?? drafts.flatMap((message) => impliedParticipants(message, now)),
    );
    const results = await this.#backend.append({
      conversationId: id,
      messages: drafts,
      conversation: {
        type: record?.type ?? 'private',
        ...(record?.title === undefined ? {} : { title: record.title }),
        metadata: record?.metadata ?? {},
      },
      participants,
      now,
      restore: {
        createdAt: record?.createdAt ?? now,
        updatedAt: record?.updatedAt ?? now,
        ...(record?.lastMessageAt === undefined ? {} : { lastMessageAt: record.lastMessageAt }),
        ...(record?.deletedAt === undefined ? {} : { deletedAt: record.deletedAt }),
        lastSeq: options.more === true ? 0 : (record?.lastSeq ?? 0),
      },
    });
    return results.map((result) => ({ message: canonicalMessage(result.message), duplicate: result.duplicate }));
  }

  /** A message by its id, soft-deleted ones included. @example const m = await store.get(id); */
  async get(id: string): Promise<Message | undefined> {
    this.#open();
    return canonicalMaybe(await this.#backend.getMessage(this.#validate.id(id, 'id')));
  }

  /**
   * A message by the provider's id; without a conversation id, the first match across conversations.
   * @example const m = await store.getByExternalId('wamid.HBgM…');
   */
  async getByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
    this.#open();
    const external = this.#validate.id(externalId, 'externalId');
    const conversation = conversationId === undefined ? undefined : this.#validate.id(conversationId, 'conversationId');
    return canonicalMaybe(await this.#backend.getMessageByExternalId(external, conversation));
  }

  /** The last `n` messages, oldest first. @example const history = await store.recent('c', 20); */
  async recent(conversationId: string, n: number = DEFAULT_RECENT): Promise<Message[]> {
    this.#open();
    const id = this.#validate.id(conversationId, 'conversationId');
    const limit = this.#validate.limit(n, DEFAULT_RECENT, 'n');
    const newest = await this.#backend.range(id, { order: 'desc', limit, includeDeleted: false });
    return newest.reverse().map(canonicalMessage);
  }

  /**
   * A page of messages in seq order with a keyset cursor: stable while new messages arrive.
   * @example
   * let page = await store.list('c', { order: 'desc', limit: 50 });
   * while (page.next) page = await store.list('c', { order: 'desc', limit: 50, cursor: page.next });
   */
  async list(conversationId: string, options: ListOptions = {}): Promise<Page> {
    this.#open();
    const id = this.#validate.id(conversationId, 'conversationId');
    const limit = this.#validate.limit(options.limit, DEFAULT_PAGE, 'limit');
    let order = options.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw invalid('order', "must be 'asc' or 'desc'");
    let afterSeq = options.after === undefined ? undefined : this.#validate.seq(options.after, 'after');
    let beforeSeq = options.before === undefined ? undefined : this.#validate.seq(options.before, 'before');
    if (options.cursor !== undefined) {
      const cursor = decodeCursor(this.#validate.text(options.cursor, 'cursor'), 'page');
      if (cursor.conversationId !== id) throw invalid('cursor', 'belongs to another conversation');
      if (options.order !== undefined && options.order !== cursor.order)
        throw invalid('order', 'differs from the cursor');
      order = cursor.order;
      if (order === 'asc') afterSeq = Math.max(afterSeq ?? 0, cursor.seq);
      else beforeSeq = Math.min(beforeSeq ?? Number.MAX_SAFE_INTEGER, cursor.seq);
    }
    const rows = await this.#backend.range(id, {
      order,
      limit: limit + 1,
      includeDeleted: options.includeDeleted === true,
      ...(afterSeq === undefined ? {} : { afterSeq }),
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
      ...this.#timeRange(options.from, options.to),
    });
    if (rows.length <= limit) return { messages: rows.map(canonicalMessage) };
    const messages = rows.slice(0, limit).map(canonicalMessage);
    const last = messages[messages.length - 1] as Message;
    return { messages, next: encodeCursor({ kind: 'page', conversationId: id, order, seq: last.seq }) };
  }

  /**
   * The messages around one (by seq or id), oldest first, the anchor included.
   * @example const window = await store.around('c', hit.message.seq, { before: 5, after: 5 });
   */
  async around(conversationId: string, seqOrId: number | string, options: AroundOptions = {}): Promise<Message[]> {
    this.#open();
    const id = this.#validate.id(conversationId, 'conversationId');
    const before = options.before === undefined ? DEFAULT_AROUND : this.#validate.seq(options.before, 'before');
    const after = options.after === undefined ? DEFAULT_AROUND : this.#validate.seq(options.after, 'after');
    if (before > this.#limits.maxPageSize || after > this.#limits.maxPageSize) {
      throw invalid('before', `and after must be at most ${this.#limits.maxPageSize}`);
    }
    const includeDeleted = options.includeDeleted === true;
    let seq: number;
    if (typeof seqOrId === 'number') {
      seq = this.#validate.seq(seqOrId, 'seqOrId');
    } else {
      const anchor = await this.#backend.getMessage(this.#validate.id(seqOrId, 'seqOrId'));
      if (anchor === undefined || anchor.conversationId !== id) {
        throw new ChatStoreError('NOT_FOUND', `message ${seqOrId} not found in conversation ${id}`);
      }
      seq = anchor.seq;
    }
    const [older, newer] = await Promise.all([
      before === 0
        ? Promise.resolve([])
        : this.#backend.range(id, { order: 'desc', beforeSeq: seq, limit: before, includeDeleted }),
      this.#backend.range(id, { order: 'asc', afterSeq: seq - 1, limit: after + 1, includeDeleted }),
    ]);
    return [...older.reverse(), ...newer].map(canonicalMessage);
  }

  /**
   * The newest messages that fit the budget, oldest first, as `{ role, content }` for an LLM.
   * Messages with empty content (media only) are left out; the window is contiguous.
   * @example const messages = await store.context('c', { maxTokens: 3000 });
   */
  async context(conversationId: string, options: ContextOptions = {}): Promise<ContextMessage[]> {
    this.#open();
    const id = this.#validate.id(conversationId, 'conversationId');
    const maxMessages = this.#validate.limit(options.maxMessages, DEFAULT_CONTEXT_MESSAGES, 'maxMessages');
    const maxTokens = options.maxTokens ?? Number.POSITIVE_INFINITY;
    if (typeof maxTokens !== 'number' || Number.isNaN(maxTokens) || maxTokens < 0) {
      throw invalid('maxTokens', 'must be a non-negative number');
    }
    const countTokens = options.countTokens ?? this.#countTokens;
    const picked: ContextMessage[] = [];
    let tokens = 0;
    let beforeSeq: number | undefined;
    const pageSize = Math.min(maxMessages, 100);
    while (picked.length < maxMessages) {
      const rows = await this.#backend.range(id, {
        order: 'desc',
        limit: pageSize,
        includeDeleted: false,
        ...(beforeSeq === undefined ? {} : { beforeSeq }),
      });
      for (const message of rows) {
        if (message.content === '') continue;
        const entry: ContextMessage = { role: message.role, content: message.content };
        const cost = countTokens(entry);
        if (tokens + cost > maxTokens || picked.length >= maxMessages) return picked.reverse();
        tokens += cost;
        picked.push(entry);
      }
      if (rows.length < pageSize) break;
      beforeSeq = (rows[rows.length - 1] as Message).seq;
    }
    return picked.reverse();
  }

  /**
   * Full-text search on the engine's own index; every word must match. Deleted messages never match.
   * @example const { hits } = await store.search('refund order', { conversationId: 'c' });
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchPage> {
    this.#open();
    const terms = [...new Set(searchTerms(this.#validate.text(query, 'query')))];
    if (terms.length === 0) throw invalid('query', 'must contain at least one word');
    if (terms.length > 32) throw invalid('query', 'must contain at most 32 words');
    const limit = this.#validate.limit(options.limit, 20, 'limit');
    const after =
      options.cursor === undefined
        ? undefined
        : decodeCursor(this.#validate.text(options.cursor, 'cursor'), 'search').position;
    const hits = await this.#backend.search({
      terms,
      limit: limit + 1,
      ...(options.conversationId === undefined
        ? {}
        : { conversationId: this.#validate.id(options.conversationId, 'conversationId') }),
      ...(options.senderId === undefined ? {} : { senderId: this.#validate.id(options.senderId, 'senderId') }),
      ...this.#timeRange(options.from, options.to),
      ...(after === undefined ? {} : { after }),
    });
    const page = hits.slice(0, limit).map((hit) => ({
      message: canonicalMessage(hit.message),
      snippet: searchSnippet(hit.message.content, terms),
      score: hit.score,
    }));
    if (hits.length <= limit) return { hits: page };
    const last = page[page.length - 1] as (typeof page)[number];
    return { hits: page, next: encodeCursor({ kind: 'search', position: { score: last.score, id: last.message.id } }) };
  }

  /**
   * Reports a delivery status (by message id, or by the provider's external id). The stored status
   * only moves forward; `statusAt` keeps the time of the first report of each status (a retry never
   * moves it) and never invents a time for a status skipped over.
   * @example await store.updateStatus('wamid.1', 'delivered', { at: '2026-11-22T10:00:00Z' });
   */
  async updateStatus(idOrExternalId: string, status: MessageStatus, options: StatusOptions = {}): Promise<Message> {
    this.#open();
    const key = this.#validate.id(idOrExternalId, 'idOrExternalId');
    const reported = this.#validate.status(status, 'status');
    const at = options.at === undefined ? this.#timestamp() : this.#validate.time(options.at, 'at');
    const error = options.error === undefined ? undefined : this.#validate.error(options.error, 'error');
    const conversationId =
      options.conversationId === undefined ? undefined : this.#validate.id(options.conversationId, 'conversationId');
    const target = await this.#find(key, conversationId);
    const updated = await this.#backend.updateMessage(target.id, (current) =>
      applyStatus(current, reported, at, error),
    );
    if (updated === undefined) throw notFound(key);
    return canonicalMessage(updated);
  }

  /**
   * Changes a message's content and merges a patch into its metadata; sets `editedAt`.
   * @example await store.edit(id, { content: 'corrected text' });
   */
  async edit(id: string, changes: EditOptions): Promise<Message> {
    this.#open();
    const key = this.#validate.id(id, 'id');
    if (typeof changes !== 'object' || changes === null) throw invalid('changes', 'must be an object');
    const content = changes.content === undefined ? undefined : this.#validate.content(changes.content, 'content');
    const patch = changes.metadata === undefined ? undefined : this.#validate.metadata(changes.metadata, 'metadata');
    if (content === undefined && patch === undefined) throw invalid('changes', 'must change content or metadata');
    const now = this.#timestamp();
    let deleted = false;
    let tooLarge = false;
    const updated = await this.#backend.updateMessage(key, (current) => {
      if (current.deletedAt !== undefined) {
        deleted = true;
        return undefined;
      }
      const next: Message = { ...current, editedAt: now };
      if (content !== undefined) next.content = content;
      if (patch !== undefined) {
        const metadata = applyMergePatch(current.metadata ?? {}, patch);
        if (Object.keys(metadata).length === 0) delete next.metadata;
        else next.metadata = metadata;
        tooLarge = structuredBytes(next) > this.#limits.maxStructuredBytes;
        if (tooLarge) return undefined;
      }
      return next;
    });
    if (updated === undefined || deleted) throw notFound(key);
    if (tooLarge)
      throw invalid('metadata', `would make metadata, parts and media exceed ${this.#limits.maxStructuredBytes} bytes`);
    return canonicalMessage(updated);
  }

  /**
   * Soft delete (hidden from reads, search and context unless asked for) or hard delete (gone from
   * the engine and its search index). Resolves to false when there was no such message.
   * @example await store.delete(id, { hard: true });
   */
  async delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
    this.#open();
    const key = this.#validate.id(id, 'id');
    if (this.#compacting(options)) return this.#backend.removeMessage(key, { compact: true });
    if (options.hard === true) return this.#backend.removeMessage(key);
    const now = this.#timestamp();
    const updated = await this.#backend.updateMessage(key, (current) =>
      current.deletedAt === undefined ? { ...current, deletedAt: now } : undefined,
    );
    return updated !== undefined;
  }

  /** @example const c = await store.getConversation('+15550001'); */
  async getConversation(id: string): Promise<Conversation | undefined> {
    this.#open();
    const conversation = await this.#backend.getConversation(this.#validate.id(id, 'id'));
    return conversation === undefined ? undefined : canonicalConversation(conversation);
  }

  /**
   * Conversations by latest activity first, cursor-paginated; soft-deleted ones only on request.
   * @example const { conversations, next } = await store.listConversations({ participantId: '+15550001' });
   */
  async listConversations(options: ListConversationsOptions = {}): Promise<ConversationPage> {
    this.#open();
    const limit = this.#validate.limit(options.limit, 20, 'limit');
    const after =
      options.cursor === undefined
        ? undefined
        : decodeCursor(this.#validate.text(options.cursor, 'cursor'), 'conversations').position;
    const rows = await this.#backend.listConversations({
      limit: limit + 1,
      includeDeleted: options.includeDeleted === true,
      ...(options.participantId === undefined
        ? {}
        : { participantId: this.#validate.id(options.participantId, 'participantId') }),
      ...(options.type === undefined ? {} : { type: this.#validate.id(options.type, 'type') }),
      ...(after === undefined ? {} : { after }),
    });
    if (rows.length <= limit) return { conversations: rows.map(canonicalConversation) };
    const conversations = rows.slice(0, limit).map(canonicalConversation);
    const last = conversations[conversations.length - 1] as Conversation;
    return {
      conversations,
      next: encodeCursor({
        kind: 'conversations',
        position: { activityAt: last.lastMessageAt ?? last.createdAt, id: last.id },
      }),
    };
  }

  /**
   * Creates a conversation before its first message (a group with its members, say); `CONFLICT` if
   * it exists.
   * @example await store.createConversation('group-42', { type: 'group', title: 'Support', participants: [{ id: 'bot', kind: 'bot' }] });
   */
  async createConversation(id: string, init: NewConversation = {}): Promise<Conversation> {
    this.#open();
    const key = this.#validate.id(id, 'id');
    const valid = this.#validate.conversation(init, 'conversation');
    const now = this.#timestamp();
    const created = await this.#backend.createConversation({
      id: key,
      type: valid.type ?? 'private',
      ...(valid.title === undefined ? {} : { title: valid.title }),
      metadata: valid.metadata ?? {},
      participants: dedupeParticipants((valid.participants ?? []).map((p) => participant(p, now))),
      now,
    });
    return canonicalConversation(created);
  }

  /**
   * Changes type or title and merges metadata in the engine (JSON merge patch: `null` removes a key),
   * so concurrent updates never overwrite each other.
   * @example await store.updateConversation('c', { metadata: { language: 'es' } });
   */
  async updateConversation(id: string, patch: ConversationPatch): Promise<Conversation> {
    this.#open();
    const key = this.#validate.id(id, 'id');
    const valid = this.#validate.patch(patch, 'patch');
    const updated = await this.#backend.updateConversation(key, valid, this.#timestamp());
    if (updated === undefined) throw new ChatStoreError('NOT_FOUND', `conversation ${key} not found`);
    return canonicalConversation(updated);
  }

  /** Adds participants not yet present. @example await store.addParticipants('g', [{ id: 'u1', name: 'Ana' }]); */
  async addParticipants(id: string, participants: NewParticipant[]): Promise<Conversation> {
    this.#open();
    const key = this.#validate.id(id, 'id');
    const now = this.#timestamp();
    const valid = this.#validate.participants(participants, 'participants').map((p) => participant(p, now));
    const updated = await this.#backend.addParticipants(key, dedupeParticipants(valid), now);
    if (updated === undefined) throw new ChatStoreError('NOT_FOUND', `conversation ${key} not found`);
    return canonicalConversation(updated);
  }

  /** @example await store.removeParticipant('g', 'u1'); */
  async removeParticipant(id: string, participantId: string): Promise<Conversation> {
    this.#open();
    const key = this.#validate.id(id, 'id');
    const member = this.#validate.id(participantId, 'participantId');
    const updated = await this.#backend.removeParticipant(key, member, this.#timestamp());
    if (updated === undefined) throw new ChatStoreError('NOT_FOUND', `conversation ${key} not found`);
    return canonicalConversation(updated);
  }

  /**
   * Soft delete hides the conversation and its messages; hard delete removes them from the engine.
   * @example await store.deleteConversation('c', { hard: true });
   */
  async deleteConversation(id: string, options: DeleteOptions = {}): Promise<boolean> {
    this.#open();
    const key = this.#validate.id(id, 'id');
    const now = this.#timestamp();
    if (this.#compacting(options)) return this.#backend.deleteConversation(key, { hard: true, now, compact: true });
    return this.#backend.deleteConversation(key, { hard: options.hard === true, now });
  }

  /** Counts for one conversation or the whole store. @example const { total, failed } = await store.stats(); */
  async stats(conversationId?: string): Promise<Stats> {
    this.#open();
    const stats = await this.#backend.stats(
      conversationId === undefined ? undefined : this.#validate.id(conversationId, 'conversationId'),
    );
    return canonicalStats(stats);
  }

  /**
   * GDPR erasure of one person: every message they sent or received, their place in every
   * conversation, and conversations named by their id (a phone number, say).
   * With `compact: true` the engine then rewrites the storage the erasure touched, so the erased
   * bytes have left its files when the call resolves (docs/backends.md, "Erasure on disk").
   * @example const receipt = await store.eraseSubject('+15550001');
   */
  async eraseSubject(participantId: string, options: EraseOptions = {}): Promise<ErasureReceipt> {
    this.#open();
    const subjectId = this.#validate.id(participantId, 'participantId');
    const compact = options.compact === true;
    const erasedAt = this.#timestamp();
    const counts =
      compact && this.#backend.compact !== undefined
        ? await this.#backend.eraseSubject(subjectId, erasedAt, { compact: true })
        : await this.#backend.eraseSubject(subjectId, erasedAt);
    return {
      subjectId,
      messagesDeleted: counts.messagesDeleted,
      conversationsDeleted: counts.conversationsDeleted,
      participantEntriesRemoved: counts.participantEntriesRemoved,
      erasedAt,
      ...(compact ? { compaction: this.#backend.compact === undefined ? 'not-needed' : 'done' } : {}),
    };
  }

  /**
   * Rewrites all of the engine's storage so that the bytes of data removed earlier (hard deletes,
   * erasures without `compact`) leave its files now; what `chatstore compact` runs. Engines that
   * leave no removed bytes behind (memory, SQLite) have nothing to rewrite: an empty report.
   * @example const { rewritten, skipped, ms } = await store.compact();
   */
  async compact(): Promise<CompactionReport> {
    this.#open();
    const report = this.#backend.compact === undefined ? undefined : await this.#backend.compact();
    return { rewritten: report?.rewritten ?? [], skipped: report?.skipped ?? [], ms: report?.ms ?? 0 };
  }

  /**
   * Every message matching the filter, conversation by conversation in seq order, read page by page.
   * @example for await (const message of store.export()) process.stdout.write(`${JSON.stringify(message)}\n`);
   */
  async *export(filter: ExportFilter = {}): AsyncIterable<Message> {
    for await (const record of this.#exportScan(filter, false)) yield record as Message;
  }

  /**
   * What `chatstore export` and `GET /v1/export` write: `export`'s messages, each conversation's
   * record (`{ conversation }`, as `getConversation` returns it) before its messages, so that
   * `restore` can rebuild the store exactly. Conversations without messages have their line too; a
   * soft-deleted conversation only with `includeDeleted`. With `from` or `to` there are no
   * conversation lines: a time slice is not the conversation (its `lastSeq`, say).
   * @example for await (const record of store.exportRecords({ includeDeleted: true })) write(JSON.stringify(record));
   */
  exportRecords(filter: ExportFilter = {}): AsyncIterable<ExportRecord> {
    return this.#exportScan(filter, true);
  }

  async *#exportScan(filter: ExportFilter, withConversations: boolean): AsyncIterable<ExportRecord> {
    this.#open();
    const range = this.#timeRange(filter.from, filter.to);
    const includeDeleted = filter.includeDeleted === true;
    const conversationIds =
      filter.conversationId === undefined
        ? this.#allConversationIds()
        : single(this.#validate.id(filter.conversationId, 'conversationId'));
    const conversationLines = withConversations && range.from === undefined && range.to === undefined;
    for await (const conversationId of conversationIds) {
      if (conversationLines) {
        const conversation = await this.#backend.getConversation(conversationId);
        if (conversation !== undefined && (includeDeleted || conversation.deletedAt === undefined)) {
          yield { conversation: canonicalConversation(conversation) };
        }
      }
      let afterSeq = 0;
      for (;;) {
        const rows = await this.#backend.range(conversationId, {
          order: 'asc',
          afterSeq,
          limit: EXPORT_PAGE,
          includeDeleted,
          ...range,
        });
        for (const row of rows) yield canonicalMessage(row);
        if (rows.length < EXPORT_PAGE) break;
        afterSeq = (rows[rows.length - 1] as Message).seq;
      }
    }
  }

  /** Closes the engine's connections; later calls fail with `UNAVAILABLE`. @example await store.close(); */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#backend.close();
  }

  async *#allConversationIds(): AsyncIterable<string> {
    let after: string | undefined;
    for (;;) {
      const ids = await this.#backend.conversationIds(after, EXPORT_PAGE);
      yield* ids;
      if (ids.length < EXPORT_PAGE) return;
      after = ids[ids.length - 1];
    }
  }

  async #find(key: string, conversationId: string | undefined): Promise<Message> {
    const byId = await this.#backend.getMessage(key);
    if (byId !== undefined && (conversationId === undefined || byId.conversationId === conversationId)) return byId;
    const byExternal = await this.#backend.getMessageByExternalId(key, conversationId);
    if (byExternal === undefined) throw notFound(key);
    return byExternal;
  }

  #draft(message: ValidMessage, now: string): MessageDraft {
    const role = message.role ?? (message.direction === 'incoming' ? 'user' : 'assistant');
    const direction = message.direction ?? (role === 'user' ? 'incoming' : 'outgoing');
    const content = message.content ?? '';
    const createdAt = message.createdAt ?? now;
    const draft: MessageDraft = { id: message.id ?? this.#newId(), role, direction, content, createdAt };
    if (message.externalId !== undefined) draft.externalId = message.externalId;
    if (message.senderId !== undefined) draft.senderId = message.senderId;
    if (message.recipientId !== undefined) draft.recipientId = message.recipientId;
    if (message.parts !== undefined) draft.parts = message.parts;
    if (message.media !== undefined && message.media.length > 0) draft.media = message.media;
    if (message.status !== undefined) {
      draft.status = message.status;
      draft.statusAt = { [message.status]: createdAt, ...message.statusAt };
    } else if (message.statusAt !== undefined && Object.keys(message.statusAt).length > 0) {
      draft.statusAt = message.statusAt;
    }
    if (message.error !== undefined) draft.error = message.error;
    if (message.replyTo !== undefined) draft.replyTo = message.replyTo;
    const command =
      message.command === null
        ? undefined
        : (message.command ?? (direction === 'incoming' ? this.#detectCommand(content) : undefined));
    if (command !== undefined) draft.command = command;
    if (message.metadata !== undefined && Object.keys(message.metadata).length > 0) draft.metadata = message.metadata;
    return draft;
  }

  #timeRange(from: unknown, to: unknown): { from?: string; to?: string } {
    return {
      ...(from === undefined ? {} : { from: this.#validate.time(from, 'from') }),
      ...(to === undefined ? {} : { to: this.#validate.time(to, 'to') }),
    };
  }

  /** True when a delete asks for compaction on an engine that has it; `compact` without `hard` is refused. */
  #compacting(options: DeleteOptions): boolean {
    if (options.compact !== true) return false;
    if (options.hard !== true) throw invalid('compact', 'needs hard: true (a soft delete keeps the data)');
    return this.#backend.compact !== undefined;
  }

  #timestamp(): string {
    return this.#now().toISOString();
  }

  #open(): void {
    if (this.#closed) throw new ChatStoreError('UNAVAILABLE', 'the store is closed');
  }
}

async function* single(id: string): AsyncIterable<string> {
  yield id;
}

function notFound(key: string): ChatStoreError {
  return new ChatStoreError('NOT_FOUND', `message ${key} not found`);
}
