/**
 * `archiveTier(inner, options)`: the archive as a Backend around the database (docs/archive.md).
 * Conversations idle for `archiveAfterDays` move from the database to compressed files when a run
 * is asked for (`backend.archive.run`, `chatstore archive`, `POST /admin/storage/archive`, the
 * schedule of `chatstore serve`). Reads of an archived conversation (recent, list, around, get,
 * export, stats, the conversation listing) answer from its file; a write to it (an append, a status
 * report, an edit, a delete, a conversation update) puts it back in the database first, then
 * writes there. Search covers the database only. Erasure reaches the files.
 */
import type {
  AppendRequest,
  ArchivedConversationSummary,
  ArchiveOperations,
  Backend,
  ConversationDeletion,
  ConversationQuery,
  RangeQuery,
} from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, Message, Stats } from '../../model.js';
import { addExpiry, expireMessages } from '../../retention.js';
import { compareUtf8 } from '../../text.js';
import { normalizeTime } from '../../time.js';
import { addStats, emptyStats } from '../stats.js';
import { coherencePassedThrough, passedThrough, positiveInteger } from '../tiers/pass-through.js';
import { rangeFromTail } from '../tiers/tails.js';
import { Archive } from './archive.js';
import { ArchiveCatalog } from './catalog.js';
import { lastActivity } from './content.js';
import { ArchiveDirectory, type ArchiveEntry } from './directory.js';
import { COMPRESSIONS, type Compression, checkLevel, defaultLevel } from './format.js';

export interface ArchiveTierOptions {
  /** Where the archive files and their manifest entries live (created when missing). */
  directory: string;
  /** Conversations with no activity for this many days are what a run moves by default. Default 30. */
  archiveAfterDays?: number;
  /** `gzip` (default), `brotli`, or `none` (`COMPRESSION_ENABLED=false`). */
  compression?: Compression;
  /** gzip 1–9 (default 6), brotli 0–11 (default 5). */
  compressionLevel?: number;
  /** Messages read per call while moving, conversations per listing page (`STORAGE_BATCH_SIZE`). Default 1,000. */
  batchSize?: number;
  /** A lock not refreshed for this long belongs to a dead process and is broken. Default 10,000 ms (at least 2,000). */
  lockStaleMs?: number;
  /** The clock of `archivedAt` and of the default cutoff. */
  now?: () => Date;
}

/**
 * @example
 * const backend = await archiveTier(await sqliteBackend({ path: 'chat.db' }), { directory: './archive' });
 * await backend.archive?.run({ before: new Date(Date.now() - 30 * 86_400_000).toISOString(), dryRun: false });
 */
export async function archiveTier(inner: Backend, options: ArchiveTierOptions): Promise<Backend> {
  const compression = options.compression ?? 'gzip';
  if (!COMPRESSIONS.includes(compression)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `compression must be one of ${COMPRESSIONS.join(', ')}`, {
      path: 'compression',
    });
  }
  const archiveAfterDays = positiveInteger(options.archiveAfterDays ?? 30, 'archiveAfterDays');
  const lockStaleMs = Math.max(2000, positiveInteger(options.lockStaleMs ?? 10_000, 'lockStaleMs'));
  const now = options.now ?? (() => new Date());
  const directory = new ArchiveDirectory(options.directory, { lockStaleMs });
  await directory.prepare();
  const archive = new Archive(inner, directory, {
    compression,
    compressionLevel: checkLevel(compression, options.compressionLevel ?? defaultLevel(compression)),
    batchSize: positiveInteger(options.batchSize ?? 1000, 'batchSize'),
    lockStaleMs,
    timestamp: () => now().toISOString(),
  });
  const catalog = new ArchiveCatalog(directory);

  /** The archived content of a conversation that is not in the database, for a read it answers. */
  const archived = async (conversationId: string) => {
    const entry = await archive.archivedEntry(conversationId);
    if (entry === undefined) return undefined;
    const content = await archive.content(entry);
    archive.reads += 1;
    return { entry, content };
  };

  /** Puts the conversation back when it is archived, so that a write can go to the database. */
  const restored = async (conversationId: string): Promise<void> => {
    if (directory.has(conversationId)) await archive.restore(conversationId);
  };

  /** A write on a message: in the database, else put its conversation back and write there. */
  const onMessage = async <T>(id: string, write: () => Promise<T>, missing: (result: T) => boolean): Promise<T> => {
    const result = await write();
    if (!missing(result)) return result;
    const entry = await catalog.byMessageId(id);
    if (entry === undefined || !(await archive.restore(entry.conversationId))) return result;
    return write();
  };

  const operations: ArchiveOperations = {
    archiveAfterDays,
    async run(request) {
      const before = normalizeTime(request.before);
      if (before === undefined)
        throw new ChatStoreError('INVALID_ARGUMENT', 'before must be a time', { path: 'before' });
      if (request.limit !== undefined) positiveInteger(request.limit, 'limit');
      return archive.run({ ...request, before });
    },
    restore: (conversationId) => archive.restore(conversationId),
    async list({ after, limit }) {
      const entries = [...(await catalog.entries())]
        .filter((entry) => after === undefined || compareUtf8(entry.conversationId, after) > 0)
        .sort((a, b) => compareUtf8(a.conversationId, b.conversationId));
      return entries.slice(0, limit).map(summary);
    },
    async stats() {
      const entries = await catalog.entries();
      const lastRun = archive.lastRun;
      return {
        directory: options.directory,
        compression,
        archiveAfterDays,
        conversations: entries.length,
        messages: entries.reduce((sum, entry) => sum + entry.messages, 0),
        bytes: entries.reduce((sum, entry) => sum + entry.bytes, 0),
        reads: archive.reads,
        restores: archive.restores,
        ...(lastRun === undefined
          ? {}
          : {
              lastRun: {
                at: lastRun.before,
                archived: lastRun.archived.length,
                skipped: lastRun.skipped.length,
                ms: lastRun.ms,
              },
            }),
      };
    },
  };

  return {
    ...passedThrough(inner),
    name: `${inner.name}+archive`,
    archive: operations,

    async append(request: AppendRequest) {
      await restored(request.conversationId);
      return inner.append(request);
    },

    async range(conversationId: string, query: RangeQuery): Promise<Message[]> {
      const rows = await inner.range(conversationId, query);
      if (rows.length > 0 || !directory.has(conversationId)) return rows;
      const found = await archived(conversationId);
      if (found === undefined) return rows;
      return rangeFromTail({ messages: found.content.messages, floor: -1 }, query) ?? [];
    },

    async getMessage(id) {
      const stored = await inner.getMessage(id);
      if (stored !== undefined) return stored;
      const entry = await catalog.byMessageId(id);
      if (entry === undefined) return undefined;
      return (await archived(entry.conversationId))?.content.messages.find((m) => m.id === id);
    },

    async getMessageByExternalId(externalId, conversationId) {
      const stored = await inner.getMessageByExternalId(externalId, conversationId);
      if (conversationId !== undefined) {
        if (stored !== undefined || !directory.has(conversationId)) return stored;
        return (await archived(conversationId))?.content.messages.find((m) => m.externalId === externalId);
      }
      const candidates = stored === undefined ? [] : [stored];
      for (const entry of await catalog.byExternalId(externalId)) {
        const match = (await archived(entry.conversationId))?.content.messages.find((m) => m.externalId === externalId);
        if (match !== undefined) candidates.push(match);
      }
      return candidates.sort((a, b) => compareUtf8(a.conversationId, b.conversationId) || a.seq - b.seq)[0];
    },

    async updateMessage(id, change) {
      return onMessage(
        id,
        () => inner.updateMessage(id, change),
        (result) => result === undefined,
      );
    },

    async removeMessage(id, removal) {
      return onMessage(
        id,
        () => inner.removeMessage(id, removal),
        (removed) => !removed,
      );
    },

    async getConversation(id) {
      const stored = await inner.getConversation(id);
      if (stored !== undefined || !directory.has(id)) return stored;
      return (await archived(id))?.content.conversation;
    },

    async listConversations(query: ConversationQuery): Promise<Conversation[]> {
      const stored = await inner.listConversations(query);
      const seen = new Set(stored.map((conversation) => conversation.id));
      const fromArchive: Conversation[] = [];
      for (const entry of await catalog.entries()) {
        const conversation = entry.conversation;
        if (seen.has(conversation.id) || !listed(conversation, query)) continue;
        // Only what is archived and not in the database (a move cut off keeps both for a while).
        if ((await archive.answering(entry)) !== undefined) fromArchive.push(conversation);
      }
      if (fromArchive.length === 0) return stored;
      return [...stored, ...fromArchive].sort(byActivity).slice(0, query.limit);
    },

    async createConversation(request) {
      await restored(request.id);
      return inner.createConversation(request);
    },

    async updateConversation(id, patch, at) {
      await restored(id);
      return inner.updateConversation(id, patch, at);
    },

    async addParticipants(id, participants, at) {
      await restored(id);
      return inner.addParticipants(id, participants, at);
    },

    async removeParticipant(id, participantId, at) {
      await restored(id);
      return inner.removeParticipant(id, participantId, at);
    },

    async deleteConversation(id: string, deletion: ConversationDeletion) {
      if (!deletion.hard) {
        await restored(id);
        return inner.deleteConversation(id, deletion);
      }
      const dropped = await archive.drop(id);
      return (await inner.deleteConversation(id, deletion)) || dropped;
    },

    async stats(conversationId?: string): Promise<Stats> {
      const stored = await inner.stats(conversationId);
      if (conversationId !== undefined) {
        if (!directory.has(conversationId)) return stored;
        const found = await archived(conversationId);
        return found === undefined ? stored : found.entry.stats;
      }
      const total = addStats(emptyStats(), stored);
      for (const entry of await catalog.entries()) {
        if ((await archive.answering(entry)) !== undefined) addStats(total, entry.stats);
      }
      return total;
    },

    async eraseSubject(subjectId, at, removal) {
      const stored = await inner.eraseSubject(subjectId, at, removal);
      const erased = await archive.erase(subjectId);
      return {
        messagesDeleted: stored.messagesDeleted + erased.messagesDeleted,
        conversationsDeleted: [...new Set([...stored.conversationsDeleted, ...erased.conversationsDeleted])],
        participantEntriesRemoved: stored.participantEntriesRemoved + erased.participantEntriesRemoved,
        ...(erased.archiveFilesRewritten === 0 ? {} : { archiveFilesRewritten: erased.archiveFilesRewritten }),
      };
    },

    async expireMessages(request) {
      const stored = await expireMessages(inner, request);
      const archived = await archive.expire(request.before, request.dryRun);
      return addExpiry(stored, { ...archived, partitionsDropped: [] });
    },

    async conversationIds(after, limit) {
      const ids = new Set(await inner.conversationIds(after, limit));
      for (const entry of await catalog.entries()) {
        if (after === undefined || compareUtf8(entry.conversationId, after) > 0) ids.add(entry.conversationId);
      }
      return [...ids].sort(compareUtf8).slice(0, limit);
    },

    ...coherencePassedThrough(inner),
    ...(inner.tiers === undefined ? {} : { tiers: () => inner.tiers?.() ?? [] }),

    close: () => inner.close(),
  };
}

/** Whether a listing (`ConversationQuery`) takes this conversation. */
function listed(conversation: Conversation, query: ConversationQuery): boolean {
  if (!query.includeDeleted && conversation.deletedAt !== undefined) return false;
  if (query.type !== undefined && conversation.type !== query.type) return false;
  if (query.participantId !== undefined && !conversation.participants.some((p) => p.id === query.participantId)) {
    return false;
  }
  if (query.after === undefined) return true;
  const activity = conversation.lastMessageAt ?? conversation.createdAt;
  const order = compareUtf8(activity, query.after.activityAt);
  return order < 0 || (order === 0 && compareUtf8(conversation.id, query.after.id) < 0);
}

/** The listing order: activity descending, then id descending. */
function byActivity(a: Conversation, b: Conversation): number {
  return compareUtf8(b.lastMessageAt ?? b.createdAt, a.lastMessageAt ?? a.createdAt) || compareUtf8(b.id, a.id);
}

function summary(entry: ArchiveEntry): ArchivedConversationSummary {
  return {
    conversationId: entry.conversationId,
    state: entry.state,
    file: entry.file,
    compression: entry.compression,
    bytes: entry.bytes,
    sha256: entry.sha256,
    messages: entry.messages,
    ...(entry.firstSeq === undefined ? {} : { firstSeq: entry.firstSeq, lastSeq: entry.lastSeq as number }),
    lastActivityAt: lastActivity(entry.conversation),
    archivedAt: entry.archivedAt,
  };
}
