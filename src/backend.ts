/**
 * The contract between the store and an engine. The store validates, normalizes, generates ids and
 * applies every rule that is the same for all engines; a backend only stores and finds, atomically.
 * Every method may throw `ChatStoreError('UNAVAILABLE')` when the engine cannot be reached.
 */
import type {
  AppendResult,
  Conversation,
  ConversationPatch,
  JsonObject,
  Message,
  Participant,
  Stats,
} from './model.js';

/**
 * A message ready to store: validated and normalized by the store; the backend adds `conversationId`
 * and `seq`. `seq` is given only in a restore (`AppendRequest.restore`), and only then taken.
 */
export type MessageDraft = Omit<Message, 'seq' | 'conversationId'> & { seq?: number };

/**
 * One `append` call. The backend performs it atomically (see `planAppend` for the rules it applies):
 * create the conversation if missing (or revive a soft-deleted one), drop duplicates, give the new
 * messages consecutive seqs, add missing participants, bump the conversation's counters.
 */
export interface AppendRequest {
  conversationId: string;
  messages: MessageDraft[];
  expectedLastSeq?: number;
  /** Attributes used only when the conversation is created by this call. */
  conversation: { type: string; title?: string; channel?: string; metadata: JsonObject };
  /** Participants to add when not yet present (existing entries are left as they are). */
  participants: Participant[];
  now: string;
  /** Present when the store restores exported messages (`ChatStore.restore`); see `RestoreRequest`. */
  restore?: RestoreRequest;
}

/**
 * A restore: the same atomic append, with stored values kept (`planAppend` applies the rules).
 * Every draft carries its `seq`: a new message keeps it (it must be above the conversation's
 * `lastSeq`, else `CONFLICT`), a duplicate (same id, or externalId in the conversation) stores nothing.
 * When the call writes (a new message, or the conversation is missing: a restore creates it even
 * with no message), the conversation gets these values instead of an append's: `createdAt` (when
 * created), `updatedAt`, `lastMessageAt` (when given; else the last new message's), `deletedAt`
 * (when given; an append clears it), and `lastSeq` at least `lastSeq`. When it does not write, it
 * changes nothing.
 */
export interface RestoreRequest {
  createdAt: string;
  updatedAt: string;
  lastMessageAt?: string;
  deletedAt?: string;
  /** The lowest `lastSeq` after the call: seqs hard-deleted at the end of the source stay used. */
  lastSeq: number;
}

/** A seq range of one conversation. Bounds are exclusive; `from` is inclusive and `to` exclusive on `createdAt`. */
export interface RangeQuery {
  afterSeq?: number;
  beforeSeq?: number;
  order: 'asc' | 'desc';
  limit: number;
  includeDeleted: boolean;
  from?: string;
  to?: string;
}

/** Where a search page resumes: strictly after this (score, id) in the order score desc, id asc. */
export interface SearchPosition {
  score: number;
  id: string;
}

/**
 * A full-text query: every term must equal a word of `content` as `searchTerms` splits and folds it.
 * Engines index `searchTerms(content)`, not their own tokenization, so every engine matches alike.
 */
export interface SearchQuery {
  terms: string[];
  conversationId?: string;
  senderId?: string;
  from?: string;
  to?: string;
  limit: number;
  after?: SearchPosition;
}

/** A hit as a backend returns it; `score` is higher for better matches. The store adds the snippet. */
export interface BackendSearchHit {
  message: Message;
  score: number;
}

/** Where a conversation listing resumes: strictly after this (activityAt, id) in descending order. */
export interface ConversationPosition {
  activityAt: string;
  id: string;
}

/** Conversations ordered by activity (`lastMessageAt`, else `createdAt`) descending, then id descending. */
export interface ConversationQuery {
  participantId?: string;
  type?: string;
  channel?: string;
  limit: number;
  after?: ConversationPosition;
  includeDeleted: boolean;
}

/** A conversation created explicitly. */
export interface CreateConversationRequest {
  id: string;
  type: string;
  title?: string;
  channel?: string;
  metadata: JsonObject;
  participants: Participant[];
  now: string;
}

/** What an erasure removed, before the store adds the subject and time. */
export interface ErasureCounts {
  messagesDeleted: number;
  conversationsDeleted: string[];
  participantEntriesRemoved: number;
  /** Archive files rewritten without the subject (`archiveTier`); absent when none was. */
  archiveFilesRewritten?: number;
}

/** Options of a removal: `removeMessage`, a hard `deleteConversation`, `eraseSubject`. */
export interface RemovalOptions {
  /**
   * After the removal commits, rewrite the storage it touched (see `compact`), so that the removed
   * bytes leave the engine's files before the call resolves. The store asks it only of engines that
   * have `compact`. When the rewrite fails the removal stays committed and the call rejects.
   */
  compact?: boolean;
}

/** What a conversation looked like when it was read: a hard delete can be made conditional on it. */
export interface ConversationVersion {
  lastSeq: number;
  messageCount: number;
  updatedAt: string;
}

/** The options of `deleteConversation`. */
export interface ConversationDeletion extends RemovalOptions {
  hard: boolean;
  now: string;
  /**
   * Hard delete only: delete only while the conversation's `lastSeq`, `messageCount` and `updatedAt`
   * still equal these, checked in the same atomic step as the delete (the archive's move, which must
   * not delete an append or a conversation update made since it read the conversation). The call
   * resolves to false when they differ, as when the conversation is missing.
   */
  ifUnchanged?: ConversationVersion;
  /**
   * Hard delete only: the conversation is moved, not erased (the archive holds it). An engine whose
   * hard deletes scrub their bytes from its files before they resolve (SQLite) may leave that to
   * `finishRemovals`, which the mover calls once its run is over.
   */
  moved?: boolean;
}

/** What a compaction rewrote (`Backend.compact`), in the engine's own names. */
export interface CompactionReport {
  /** Tables, partitions or files rewritten, e.g. `"chatstore"."messages"`. */
  rewritten: string[];
  /** What would have been rewritten but was not, each with why (a missing privilege, say). */
  skipped: string[];
  /** How long it took. */
  ms: number;
}

/**
 * @example
 * const store = new ChatStore(memoryBackend());
 */
export interface Backend {
  /** The engine's name, e.g. `sqlite`. */
  readonly name: string;

  append(request: AppendRequest): Promise<AppendResult[]>;
  getMessage(id: string): Promise<Message | undefined>;
  /** Without a conversation id: the match with the smallest (conversationId, seq). */
  getMessageByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined>;
  range(conversationId: string, query: RangeQuery): Promise<Message[]>;
  /**
   * Atomic read-modify-write of one message (row lock or equivalent). `change` is pure and synchronous;
   * it returns the new message, or `undefined` to leave it as it is. Resolves to the message as stored
   * afterwards, or `undefined` when no message has that id. Only content, parts, metadata, status,
   * statusAt, error, editedAt and deletedAt may change.
   */
  updateMessage(id: string, change: (current: Message) => Message | undefined): Promise<Message | undefined>;
  /** Removes the message from the engine and its search index; decrements `messageCount`. */
  removeMessage(id: string, options?: RemovalOptions): Promise<boolean>;
  search(query: SearchQuery): Promise<BackendSearchHit[]>;

  getConversation(id: string): Promise<Conversation | undefined>;
  listConversations(query: ConversationQuery): Promise<Conversation[]>;
  /** Throws `CONFLICT` when the conversation exists. */
  createConversation(request: CreateConversationRequest): Promise<Conversation>;
  /** Applies the patch in the engine (metadata as a JSON merge patch); `undefined` when missing. */
  updateConversation(id: string, patch: ConversationPatch, now: string): Promise<Conversation | undefined>;
  /** Adds participants that are not present yet; `undefined` when the conversation is missing. */
  addParticipants(conversationId: string, participants: Participant[], now: string): Promise<Conversation | undefined>;
  removeParticipant(conversationId: string, participantId: string, now: string): Promise<Conversation | undefined>;
  /**
   * Soft: sets `deletedAt` on the conversation and on its messages not yet deleted. Hard: removes the
   * conversation, its participants and messages (search index included). False when missing (or,
   * with `ifUnchanged`, changed).
   */
  deleteConversation(id: string, options: ConversationDeletion): Promise<boolean>;

  /** Counts over messages (and conversations) of one conversation or of the whole store. */
  stats(conversationId?: string): Promise<Stats>;
  /**
   * Hard-deletes every message sent or received by `subjectId`, removes it from every participant
   * list and hard-deletes conversations whose id is `subjectId`: the rule of `src/subject.ts`, by
   * which `ChatStore.exportSubject` returns what this removes (the conformance suite compares them).
   */
  eraseSubject(subjectId: string, now: string, options?: RemovalOptions): Promise<ErasureCounts>;
  /** Conversation ids in ascending order, strictly after `after`: a stable scan for export. */
  conversationIds(after: string | undefined, limit: number): Promise<string[]>;
  /** Bytes the engine's storage takes, where the engine can tell cheaply (optional: admin statistics only). */
  storageBytes?(): Promise<number | undefined>;
  /**
   * Rewrites the engine's storage so that the bytes of removed data leave its files now, instead of
   * when the engine gets round to it (PostgreSQL `VACUUM FULL`, InnoDB `ALTER TABLE … FORCE`, a Redis
   * AOF rewrite and snapshot): all of the store's storage. An engine that has it honours `compact: true` on
   * its removals (`RemovalOptions`), rewriting only what the removal touched. An engine without it
   * leaves no removed bytes behind to rewrite (memory; SQLite zeroes them as it deletes).
   */
  compact?(): Promise<CompactionReport>;
  /**
   * A number that changes whenever another connection (another process, another store on the same
   * file) has committed a change since, read without I/O (SQLite `PRAGMA data_version`); this
   * backend's own writes leave it as it is. A cache in front of the backend drops what it holds when
   * it changes (`tailCache`). Optional: engines whose writers a cache can hear through `changeFeed`.
   */
  dataVersion?(): number;
  /**
   * A channel that tells every store on the same storage which conversations another one changed
   * (PostgreSQL `LISTEN`/`NOTIFY`), for caches that must not serve what another instance changed
   * (`tailCache`). Each call opens a channel of its own; the cache closes it. Once a feed is open,
   * this backend's own changes are marked as its own, so that its feeds skip them.
   */
  changeFeed?(): ChangeFeed;
  /** The figures of each tier in front of the engine, nearest first (a tier implements it; engines leave it out). */
  tiers?(): TierStats[];
  /**
   * Retention done the engine's own way (PostgreSQL's monthly partitions: whole months dropped,
   * then the rest of the cutoff's month row by row), and by tiers that must follow it (the archive
   * rewrites its files; caches drop their tails). Without it the store removes each expired message
   * through `range` and `removeMessage` (`expireByScan`).
   */
  expireMessages?(request: ExpiryRequest): Promise<ExpiryCounts>;
  /**
   * Scrubs from the engine's files what hard deletes marked `moved` left there, all at once (SQLite:
   * the WAL checkpoint and residue scan each hard delete otherwise does). `thorough`: which deletes
   * were left is not known (a process that moved was killed), so all of the storage is rewritten
   * (SQLite `VACUUM`). Engines that scrub nothing leave it out.
   */
  finishRemovals?(options: { thorough: boolean }): Promise<void>;
  /** The archive below the caches, when the store has one (`archiveTier`; docs/archive.md). */
  readonly archive?: ArchiveOperations;

  close(): Promise<void>;
}

/**
 * What a change feed delivers: the conversations another instance changed, or `'*'` when any may
 * have changed (an erasure, or the feed was cut off and may have missed messages).
 */
export type ChangeListener = (change: readonly string[] | '*') => void;

/** A channel between the stores on one storage (see `Backend.changeFeed`). */
export interface ChangeFeed {
  /** Starts listening; resolves once changes published from now on will reach `listener`. */
  subscribe(listener: ChangeListener): Promise<void>;
  /**
   * True when the engine announces every change itself, in the transaction that makes it (PostgreSQL:
   * a trigger), so that no committed change can go unannounced; a cache then publishes nothing.
   */
  readonly announcesWrites: boolean;
  /** Tells the other instances (not this one) that these conversations changed; resolves once sent. */
  publish(change: readonly string[] | '*'): Promise<void>;
  /** False while the channel is down: changes published meanwhile are lost, so nothing cached may be served. */
  readonly live: boolean;
  close(): Promise<void>;
}

/** One tier's figures (`Backend.tiers`, `ChatStore.tierStats`, `/admin/storage/stats`). */
export interface TierStats {
  /** `l1`: the in-process tier; `l2`: the shared tier. */
  tier: string;
  /** How the tier hears of other instances' writes: `data-version`, `change-feed`, `single-writer`, or `shared` (L2). */
  coherence: string;
  /** False while the tier cannot be trusted (its change feed or its server is down): every read then goes past it. */
  serving: boolean;
  /** Conversations whose tails it holds, and their messages; null where counting would cost a scan (L2). */
  conversations: number | null;
  messages: number | null;
  /** The most conversations it holds; null where the server's memory policy decides (L2). */
  maxActiveConversations: number | null;
  maxMessagesPerConversation: number;
  /** Range reads it answered, and those that went past it. */
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 before any read. */
  hitRatio: number;
  /** Tails read from below to be kept. */
  fills: number;
  /** Tails dropped to make room for others; null where the server evicts on its own (L2). */
  evictions: number | null;
  /** Tails dropped because their conversation changed, here or in another instance. */
  invalidations: number;
  /** Calls to the tier's server that failed (each pauses the tier: L2); 0 for L1. */
  failures: number;
}

/** A retention run: every message created before `before` is hard-deleted (with `dryRun`, only counted). */
export interface ExpiryRequest {
  before: string;
  dryRun: boolean;
}

/** What a retention run removed (or, with `dryRun`, would remove). */
export interface ExpiryCounts {
  messagesDeleted: number;
  /** Partitions dropped whole (PostgreSQL `monthly`), by name. */
  partitionsDropped: string[];
  /** Archive files rewritten without the expired messages. */
  archiveFilesRewritten: number;
}

/** What the archive tier offers besides the Backend calls (`Backend.archive`; docs/archive.md). */
export interface ArchiveOperations {
  /** Conversations with no activity for this many days are what a run moves by default. */
  readonly archiveAfterDays: number;
  /**
   * Moves every conversation whose last activity (its newest message, else its creation) is before
   * `before` from the database to the archive, after finishing what an interrupted run left; with
   * `dryRun`, only says which it would move. At most `limit` conversations when given.
   */
  run(request: ArchiveRunRequest): Promise<ArchiveRunReport>;
  /** Puts an archived conversation back in the database; false when it is not archived. */
  restore(conversationId: string): Promise<boolean>;
  /** Archived conversations in id order (UTF-8 bytes), strictly after `after`. */
  list(query: { after?: string; limit: number }): Promise<ArchivedConversationSummary[]>;
  /** The archive's figures (for `/admin/storage/stats`, `chatstore stats` and metrics). */
  stats(): Promise<ArchiveStats>;
}

export interface ArchiveRunRequest {
  before: string;
  dryRun: boolean;
  limit?: number;
}

/** What an archiving run did (or, with `dryRun`, would do). */
export interface ArchiveRunReport {
  dryRun: boolean;
  before: string;
  /** Conversations moved (or that would be). */
  archived: string[];
  /** Conversations left in the database, each with why (`changed`: written to while it was moved). */
  skipped: { conversationId: string; reason: string }[];
  messages: number;
  /** Bytes of the files written. */
  bytes: number;
  /** Interrupted moves finished, restores finished, stale moves undone and leftover files removed before the run. */
  recovered: ArchiveRecovery;
  ms: number;
}

export interface ArchiveRecovery {
  movesFinished: number;
  movesUndone: number;
  restoresFinished: number;
  leftoverFiles: number;
  /** Runs killed before their removals were finished: the engine's storage was rewritten whole for them. */
  unfinishedRuns: number;
}

/** One archived conversation as the manifest describes it. */
export interface ArchivedConversationSummary {
  conversationId: string;
  state: 'moving' | 'archived' | 'restoring';
  file: string;
  compression: string;
  bytes: number;
  sha256: string;
  messages: number;
  firstSeq?: number;
  lastSeq?: number;
  lastActivityAt: string;
  archivedAt: string;
}

export interface ArchiveStats {
  directory: string;
  compression: string;
  archiveAfterDays: number;
  conversations: number;
  messages: number;
  bytes: number;
  /** Reads this process answered from archive files, and archived conversations it put back in the database. */
  reads: number;
  restores: number;
  /** The last run of this process, if any. */
  lastRun?: { at: string; archived: number; skipped: number; ms: number };
}
