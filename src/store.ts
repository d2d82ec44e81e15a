/**
 * ChatStore: the one API over every engine (docs/api.md). Validation, ids, normalization, command
 * detection, the status rule, cursors and token budgets live in `src/store/`, once, a file per
 * concern; the backend only stores and finds. This class is the public face: it checks that the
 * store is open and hands each call to its part. Every message and conversation an engine returns
 * leaves through `store/canonical.ts`, so its JSON is the same text on every engine (invariant 6).
 */
import type { ChatStoreApi } from './api.js';
import type { ArchiveRunReport, ArchiveStats, Backend, CompactionReport, TierStats } from './backend.js';
import { commandDetector } from './commands.js';
import { ChatStoreError } from './errors.js';
import { newMessageId } from './ids.js';
import { type Limits, resolveLimits } from './limits.js';
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
import * as archive from './store/archive.js';
import * as conversations from './store/conversations.js';
import type { StoreCore } from './store/core.js';
import { exportScan } from './store/export.js';
import { compactStorage, eraseSubject } from './store/maintenance.js';
import type {
  AppendOptions,
  ArchivedPage,
  ArchiveOptions,
  AroundOptions,
  ChatStoreOptions,
  ContextOptions,
  DeleteOptions,
  EditOptions,
  EraseOptions,
  ExportFilter,
  ExportRecord,
  ListArchivedOptions,
  ListConversationsOptions,
  ListOptions,
  RestoreOptions,
  RetentionOptions,
  RetentionReport,
  SearchOptions,
  StatusOptions,
  SubjectExportRecord,
} from './store/options.js';
import * as reads from './store/reads.js';
import { applyRetention } from './store/retention.js';
import { subjectScan } from './store/subject.js';
import * as writes from './store/writes.js';
import { approximateTokens } from './tokens.js';
import { validator } from './validate.js';

export type * from './store/options.js';

/**
 * @example
 * import { ChatStore } from 'chatstore';
 * import { memoryBackend } from 'chatstore/memory';
 * const store = new ChatStore(memoryBackend());
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 * const last = await store.recent('+15550001', 20);
 */
export class ChatStore implements ChatStoreApi {
  readonly #core: StoreCore;
  #closed = false;

  constructor(backend: Backend, options: ChatStoreOptions = {}) {
    const limits = resolveLimits(options.limits);
    const now = options.now ?? (() => new Date());
    this.#core = {
      backend,
      limits,
      validate: validator(limits),
      detectCommand: commandDetector(options.commands),
      countTokens: options.countTokens ?? approximateTokens,
      newId: options.newId ?? newMessageId,
      timestamp: () => now().toISOString(),
    };
  }

  /** The engine's name (`memory`, `sqlite`, …). */
  get backendName(): string {
    return this.#core.backend.name;
  }

  /**
   * The figures of each tier in front of the engine, nearest first (docs/tiers.md); empty without tiers.
   * @example store.tierStats()[0]?.hitRatio
   */
  tierStats(): TierStats[] {
    return this.#open().backend.tiers?.() ?? [];
  }

  /** Bytes the engine's storage takes (SQLite: the file with its WAL), or undefined when the engine cannot tell. */
  async storageBytes(): Promise<number | undefined> {
    return this.#open().backend.storageBytes?.();
  }

  /** The limits this store enforces. */
  get limits(): Readonly<Limits> {
    return this.#core.limits;
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
    return writes.appendMessages(this.#open(), conversationId, input, options);
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
    return writes.restoreMessages(this.#open(), conversationId, messages, options);
  }

  /** A message by its id, soft-deleted ones included. @example const m = await store.get(id); */
  async get(id: string): Promise<Message | undefined> {
    return reads.messageById(this.#open(), id);
  }

  /**
   * A message by the provider's id; without a conversation id, the first match across conversations.
   * @example const m = await store.getByExternalId('wamid.HBgM…');
   */
  async getByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
    return reads.messageByExternalId(this.#open(), externalId, conversationId);
  }

  /** The last `n` messages, oldest first. @example const history = await store.recent('c', 20); */
  async recent(conversationId: string, n: number = reads.DEFAULT_RECENT): Promise<Message[]> {
    return reads.recentMessages(this.#open(), conversationId, n);
  }

  /**
   * A page of messages in seq order with a keyset cursor: stable while new messages arrive.
   * @example
   * let page = await store.list('c', { order: 'desc', limit: 50 });
   * while (page.next) page = await store.list('c', { order: 'desc', limit: 50, cursor: page.next });
   */
  async list(conversationId: string, options: ListOptions = {}): Promise<Page> {
    return reads.listMessages(this.#open(), conversationId, options);
  }

  /**
   * The messages around one (by seq or id), oldest first, the anchor included.
   * @example const window = await store.around('c', hit.message.seq, { before: 5, after: 5 });
   */
  async around(conversationId: string, seqOrId: number | string, options: AroundOptions = {}): Promise<Message[]> {
    return reads.messagesAround(this.#open(), conversationId, seqOrId, options);
  }

  /**
   * The newest messages that fit the budget, oldest first, as `{ role, content }` for an LLM.
   * Messages with empty content (media only) are left out; the window is contiguous.
   * @example const messages = await store.context('c', { maxTokens: 3000 });
   */
  async context(conversationId: string, options: ContextOptions = {}): Promise<ContextMessage[]> {
    return reads.llmContext(this.#open(), conversationId, options);
  }

  /**
   * Full-text search on the engine's own index; every word must match. Deleted messages never match.
   * @example const { hits } = await store.search('refund order', { conversationId: 'c' });
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchPage> {
    return reads.searchMessages(this.#open(), query, options);
  }

  /**
   * Reports a delivery status (by message id, or by the provider's external id). The stored status
   * only moves forward; `statusAt` keeps the time of the first report of each status (a retry never
   * moves it) and never invents a time for a status skipped over.
   * @example await store.updateStatus('wamid.1', 'delivered', { at: '2026-11-22T10:00:00Z' });
   */
  async updateStatus(idOrExternalId: string, status: MessageStatus, options: StatusOptions = {}): Promise<Message> {
    return writes.reportStatus(this.#open(), idOrExternalId, status, options);
  }

  /**
   * Changes a message's content and parts and merges a patch into its metadata; sets `editedAt`.
   * @example await store.edit(id, { content: 'corrected text' });
   */
  async edit(id: string, changes: EditOptions): Promise<Message> {
    return writes.editMessage(this.#open(), id, changes);
  }

  /**
   * Soft delete (hidden from reads, search and context unless asked for) or hard delete (gone from
   * the engine and its search index). Resolves to false when there was no such message.
   * @example await store.delete(id, { hard: true });
   */
  async delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
    return writes.deleteMessage(this.#open(), id, options);
  }

  /** @example const c = await store.getConversation('+15550001'); */
  async getConversation(id: string): Promise<Conversation | undefined> {
    return conversations.conversationById(this.#open(), id);
  }

  /**
   * Conversations by latest activity first, cursor-paginated; soft-deleted ones only on request.
   * @example const { conversations, next } = await store.listConversations({ participantId: '+15550001' });
   */
  async listConversations(options: ListConversationsOptions = {}): Promise<ConversationPage> {
    return conversations.listConversations(this.#open(), options);
  }

  /**
   * Creates a conversation before its first message (a group with its members, say); `CONFLICT` if
   * it exists.
   * @example await store.createConversation('group-42', { type: 'group', title: 'Support', participants: [{ id: 'bot', kind: 'bot' }] });
   */
  async createConversation(id: string, init: NewConversation = {}): Promise<Conversation> {
    return conversations.createConversation(this.#open(), id, init);
  }

  /**
   * Changes type or title and merges metadata in the engine (JSON merge patch: `null` removes a key),
   * so concurrent updates never overwrite each other.
   * @example await store.updateConversation('c', { metadata: { language: 'es' } });
   */
  async updateConversation(id: string, patch: ConversationPatch): Promise<Conversation> {
    return conversations.updateConversation(this.#open(), id, patch);
  }

  /** Adds participants not yet present. @example await store.addParticipants('g', [{ id: 'u1', name: 'Ana' }]); */
  async addParticipants(id: string, participants: NewParticipant[]): Promise<Conversation> {
    return conversations.addParticipants(this.#open(), id, participants);
  }

  /** @example await store.removeParticipant('g', 'u1'); */
  async removeParticipant(id: string, participantId: string): Promise<Conversation> {
    return conversations.removeParticipant(this.#open(), id, participantId);
  }

  /**
   * Soft delete hides the conversation and its messages; hard delete removes them from the engine.
   * @example await store.deleteConversation('c', { hard: true });
   */
  async deleteConversation(id: string, options: DeleteOptions = {}): Promise<boolean> {
    return conversations.deleteConversation(this.#open(), id, options);
  }

  /** Counts for one conversation or the whole store. @example const { total, failed } = await store.stats(); */
  async stats(conversationId?: string): Promise<Stats> {
    return conversations.storeStats(this.#open(), conversationId);
  }

  /**
   * GDPR erasure of one person: every message they sent or received, their place in every
   * conversation, and conversations named by their id (a phone number, say).
   * With `compact: true` the engine then rewrites the storage the erasure touched, so the erased
   * bytes have left its files when the call resolves (docs/backends.md, "Erasure on disk").
   * @example const receipt = await store.eraseSubject('+15550001');
   */
  async eraseSubject(participantId: string, options: EraseOptions = {}): Promise<ErasureReceipt> {
    return eraseSubject(this.#open(), participantId, options);
  }

  /**
   * GDPR access (Art. 15): everything stored about one person, the mirror of `eraseSubject`: what
   * an erasure would remove is what this returns. First `{ subject: { id, exportedAt } }`; then, in
   * conversation id order, each conversation holding anything of theirs as `{ conversation }`
   * followed by its messages concerning them in seq order, soft-deleted ones included, archived
   * conversations too. The conversation whose id is theirs comes whole with all its messages; any
   * other as a `SubjectConversation` (their own participant entry only) with the messages they sent
   * or received. Reads every conversation page by page, so it holds one page in memory whatever
   * the store's size, and takes as long as `export` does.
   * @example for await (const record of store.exportSubject('+15550001')) write(`${JSON.stringify(record)}\n`);
   */
  async *exportSubject(participantId: string): AsyncIterable<SubjectExportRecord> {
    yield* subjectScan(this.#open(), participantId);
  }

  /**
   * Rewrites all of the engine's storage so that the bytes of data removed earlier (hard deletes,
   * erasures without `compact`) leave its files now; what `chatstore compact` runs. Engines that
   * leave no removed bytes behind (memory, SQLite) have nothing to rewrite: an empty report.
   * @example const { rewritten, skipped, ms } = await store.compact();
   */
  async compact(): Promise<CompactionReport> {
    return compactStorage(this.#open());
  }

  /**
   * Every message matching the filter, conversation by conversation in seq order, read page by page.
   * @example for await (const message of store.export()) process.stdout.write(`${JSON.stringify(message)}\n`);
   */
  async *export(filter: ExportFilter = {}): AsyncIterable<Message> {
    for await (const record of exportScan(this.#open(), filter, false)) yield record as Message;
  }

  /**
   * What `chatstore export` and `GET /v1/export` write: `export`'s messages, each conversation's
   * record (`{ conversation }`, as `getConversation` returns it) before its messages, so that
   * `restore` can rebuild the store exactly. Conversations without messages have their line too; a
   * soft-deleted conversation only with `includeDeleted`. With `from` or `to` there are no
   * conversation lines: a time slice is not the conversation (its `lastSeq`, say).
   * @example for await (const record of store.exportRecords({ includeDeleted: true })) write(JSON.stringify(record));
   */
  async *exportRecords(filter: ExportFilter = {}): AsyncIterable<ExportRecord> {
    yield* exportScan(this.#open(), filter, true);
  }

  /**
   * Moves conversations with no activity for `olderThanDays` (default: the archive's
   * `archiveAfterDays`) from the database to the archive's compressed files; reads keep answering
   * from there (docs/archive.md). `UNSUPPORTED` when the store has no archive.
   * @example const report = await store.archive({ olderThanDays: 30, dryRun: true });
   */
  async archive(options: ArchiveOptions = {}): Promise<ArchiveRunReport> {
    return archive.runArchive(this.#open(), options);
  }

  /** Archived conversations in id order, a page at a time. @example const { conversations, next } = await store.listArchived(); */
  async listArchived(options: ListArchivedOptions = {}): Promise<ArchivedPage> {
    return archive.listArchived(this.#open(), options);
  }

  /**
   * Puts an archived conversation back in the database (a write to it does so by itself); false
   * when it is not archived.
   * @example await store.restoreArchived('+15550001');
   */
  async restoreArchived(conversationId: string): Promise<boolean> {
    return archive.restoreArchived(this.#open(), conversationId);
  }

  /**
   * Retention: hard-deletes every message created more than `olderThanDays` ago (or before
   * `before`), in the database and in the archive; conversations stay. On PostgreSQL with monthly
   * partitions, whole months go by dropping their partitions (docs/retention.md).
   * @example const { messagesDeleted } = await store.applyRetention({ olderThanDays: 365 });
   */
  async applyRetention(options: RetentionOptions): Promise<RetentionReport> {
    return applyRetention(this.#open(), options);
  }

  /** The archive's figures, or undefined when the store has none. @example (await store.archiveStats())?.conversations */
  async archiveStats(): Promise<ArchiveStats | undefined> {
    return archive.archiveStats(this.#open());
  }

  /** Closes the engine's connections; later calls fail with `UNAVAILABLE`. @example await store.close(); */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#core.backend.close();
  }

  /** The store's parts, once it is known to be open. */
  #open(): StoreCore {
    if (this.#closed) throw new ChatStoreError('UNAVAILABLE', 'the store is closed');
    return this.#core;
  }
}
