import type { ArchivedConversationSummary } from '../backend.js';
import type { CommandOptions } from '../commands.js';
import type { Limits } from '../limits.js';
import type { Conversation, Message, NewConversation, Participant } from '../model.js';
import type { TokenCounter } from '../tokens.js';

/** @example new ChatStore(backend, { commands: { admin: ['ban'] }, limits: { maxBatchSize: 100 } }) */
export interface ChatStoreOptions {
  limits?: Partial<Limits>;
  commands?: CommandOptions;
  /** Default token counter for `context()`. */
  countTokens?: TokenCounter;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  /** Id generator for messages appended without an `id`. Default: UUIDv7. */
  newId?: () => string;
}

/** @example await store.append('c', msgs, { expectedLastSeq: 41 }); */
export interface AppendOptions {
  /** Fail with `CONFLICT` (storing nothing) unless the conversation's last seq is this one. */
  expectedLastSeq?: number;
  /** Attributes for the conversation if this call creates it. */
  conversation?: NewConversation;
}

/** @example await store.list('c', { order: 'desc', limit: 50 }); */
export interface ListOptions {
  /** Only messages with a seq below this one. */
  before?: number;
  /** Only messages with a seq above this one. */
  after?: number;
  /** The `next` of a previous page; pass the same other options again. */
  cursor?: string;
  limit?: number;
  order?: 'asc' | 'desc';
  /** Only messages created at or after this time. */
  from?: string | Date | number;
  /** Only messages created before this time. */
  to?: string | Date | number;
  includeDeleted?: boolean;
}

/** @example await store.around('c', hit.message.id, { before: 3, after: 3 }); */
export interface AroundOptions {
  before?: number;
  after?: number;
  includeDeleted?: boolean;
}

/** @example await store.context('c', { maxTokens: 4000 }); */
export interface ContextOptions {
  /** At most this many messages. Default 50. */
  maxMessages?: number;
  /** At most this many tokens, counted by `countTokens`. */
  maxTokens?: number;
  countTokens?: TokenCounter;
}

/** @example await store.search('refund', { conversationId: 'c', limit: 10 }); */
export interface SearchOptions {
  conversationId?: string;
  senderId?: string;
  from?: string | Date | number;
  to?: string | Date | number;
  limit?: number;
  cursor?: string;
}

/** @example await store.updateStatus('wamid.1', 'read', { at: webhook.timestamp * 1000 }); */
export interface StatusOptions {
  /** When the status happened (provider time). Default: now. */
  at?: string | Date | number;
  /** Why it failed, for `failed`. */
  error?: { code?: string; message: string };
  /** Narrows an external-id lookup to one conversation. */
  conversationId?: string;
}

/**
 * What an edit changes; the fields it leaves out stay as they are. `content` and `parts` are
 * independent, as in an append: the store never derives one from the other, so a caller whose
 * parts carry the text (an AI SDK message, LangChain content blocks) passes both, and search and
 * token budgets see `content`.
 * @example await store.edit(id, { content: 'fixed typo', metadata: { edited: true } });
 */
export interface EditOptions {
  content?: string;
  /** The message's new parts, replacing the stored ones whole; validated as an append's parts. */
  parts?: unknown[];
  /** A JSON merge patch applied to the message's metadata. */
  metadata?: Record<string, unknown>;
}

/** @example await store.delete(id, { hard: true, compact: true }); */
export interface DeleteOptions {
  /** Remove it from the engine and its search index instead of hiding it. */
  hard?: boolean;
  /**
   * With `hard`: once the delete commits, rewrite the engine's storage it touched, so the removed
   * bytes have left the engine's files when the call resolves (docs/backends.md, "Erasure on disk").
   * Costly: PostgreSQL and MySQL rewrite whole tables under a lock.
   */
  compact?: boolean;
}

/** @example await store.eraseSubject('+15550001', { compact: true }); */
export interface EraseOptions {
  /**
   * Once the erasure commits, rewrite the engine's storage it touched, so the erased bytes have left
   * the engine's files when the call resolves; the receipt says so (`compaction`). Costly: see
   * docs/backends.md, "Erasure on disk".
   */
  compact?: boolean;
}

/** @example await store.listConversations({ participantId: '+15550001' }); */
export interface ListConversationsOptions {
  participantId?: string;
  type?: string;
  /** Only conversations on this channel. */
  channel?: string;
  limit?: number;
  cursor?: string;
  includeDeleted?: boolean;
}

/** @example for await (const m of store.export({ conversationId: 'c' })) write(m); */
export interface ExportFilter {
  conversationId?: string;
  from?: string | Date | number;
  to?: string | Date | number;
  includeDeleted?: boolean;
}

/**
 * What `exportRecords` yields, one JSON line each in `chatstore export`: a conversation as
 * `getConversation` returns it, wrapped (`{ conversation }`), before its messages; a message as reads
 * return it. A reader that wants messages only skips the objects with a `conversation` key.
 * @example for await (const record of store.exportRecords()) if (!('conversation' in record)) use(record);
 */
export type ExportRecord = { conversation: Conversation } | Message;

/**
 * A conversation in a subject access export (`exportSubject`) that is not the subject's own: only
 * what erasure would take from it and where it is. `participants` holds the subject's own entry, or
 * nothing when they sent or received messages there without one; other people's entries, the
 * metadata and the counters are not about the subject and stay out.
 */
export interface SubjectConversation {
  id: string;
  type: string;
  title?: string;
  channel?: string;
  participants: Participant[];
  createdAt: string;
  deletedAt?: string;
}

/**
 * What `exportSubject` yields, one JSON line each in `chatstore subject export`: first
 * `{ subject: { id, exportedAt } }`, then per conversation that holds anything of the subject's,
 * `{ conversation }` and its messages concerning the subject in seq order. The conversation whose
 * id is the subject's comes whole (`Conversation`, all its messages); any other as a
 * `SubjectConversation`, with the messages the subject sent or received.
 * @example for await (const record of store.exportSubject('+15550001')) write(JSON.stringify(record));
 */
export type SubjectExportRecord =
  | { subject: { id: string; exportedAt: string } }
  | { conversation: Conversation | SubjectConversation }
  | Message;

/** @example await store.restore('c', messages, { conversation, more: true }); */
export interface RestoreOptions {
  /**
   * The conversation as exported: when the call creates it, it gets this record's type, title,
   * metadata, participants (with their kinds, names and joinedAt) and createdAt; every call that
   * writes sets its updatedAt, lastMessageAt and deletedAt, and (see `more`) its lastSeq. Without
   * it, a created conversation is a `private` one of now, with the participants the messages imply.
   */
  conversation?: Conversation;
  /**
   * More messages of this conversation follow in later calls: the record's `lastSeq` (above the
   * last message's when the last ones were hard-deleted) is applied by the last call only.
   */
  more?: boolean;
}

/** @example await store.archive({ olderThanDays: 30, dryRun: true }); */
export interface ArchiveOptions {
  /** Move conversations with no activity for this many days; default the archive's `archiveAfterDays`. */
  olderThanDays?: number;
  /** Or: with no activity since this time. */
  before?: string | Date | number;
  /** Only report which conversations would move. */
  dryRun?: boolean;
  /** At most this many conversations in this run. */
  limit?: number;
}

/** @example await store.listArchived({ limit: 100 }); */
export interface ListArchivedOptions {
  /** The `next` of the previous page: a conversation id. */
  after?: string;
  limit?: number;
}

export interface ArchivedPage {
  conversations: ArchivedConversationSummary[];
  /** Where the next page starts (`after`); absent on the last page. */
  next?: string;
}

/** @example await store.applyRetention({ olderThanDays: 365, dryRun: true }); */
export interface RetentionOptions {
  /** Delete messages created more than this many days ago. */
  olderThanDays?: number;
  /** Or: created before this time. */
  before?: string | Date | number;
  /** Only count what would be deleted. */
  dryRun?: boolean;
}

/** What a retention run deleted (or, with `dryRun`, would delete). */
export interface RetentionReport {
  before: string;
  dryRun: boolean;
  messagesDeleted: number;
  /** PostgreSQL `monthly`: partitions dropped whole (with `dryRun`: that would be). */
  partitionsDropped: string[];
  /** Archive files rewritten without the expired messages. */
  archiveFilesRewritten: number;
  ms: number;
}
