/**
 * The `Backend` a Worker's `ChatStore` runs on: each call goes to the objects that answer it. What
 * one conversation holds (append, ranges, its messages by id or external id, edits, deletes, the
 * conversation itself) goes to that conversation's object, the system of record; a message id's
 * owner to the directory shard of that id; what spans conversations (listings, search, stats,
 * erasure's reach, the export scan, an external id alone) to every directory shard, merged here.
 * The shards are kept up to date by the conversation objects before those answer.
 */
import type {
  Backend,
  BackendSearchHit,
  ConversationDeletion,
  ConversationQuery,
  ErasureCounts,
  RemovalOptions,
} from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { AppendResult, Conversation, Message, Stats } from '../../model.js';
import { compareUtf8 } from '../../text.js';
import type { CorpusStatistics } from '../bm25.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { addStats, emptyStats } from '../stats.js';
import { type ChatStoreBindings, conversationObject, directoryShard, directoryShards, shardOf } from './bindings.js';
import { callObject } from './calls.js';
import type { ConversationErasure } from './conversation-object.js';

/**
 * A Durable Object's SQLite storage cannot be rewritten: `VACUUM` and `secure_delete` are refused.
 * Removals are gone from every read and index at once; their bytes leave the platform as it reuses
 * the pages and its point-in-time recovery window passes (docs/cloudflare.md, "Erasure").
 */
function cannotCompact(): ChatStoreError {
  return new ChatStoreError(
    'UNSUPPORTED',
    'Durable Object storage cannot be compacted (VACUUM and secure_delete are refused); remove without compact: the data leaves every read and index at once',
  );
}

/** Refuses a removal that asks for compaction, before it removes anything. */
function refuseCompaction(options: RemovalOptions | undefined): void {
  if (options?.compact === true) throw cannotCompact();
}

/** Newest activity first, then id descending (UTF-8 bytes, as the shards' SQLite orders them). */
function byActivity(a: Conversation, b: Conversation): number {
  return compareUtf8(b.lastMessageAt ?? b.createdAt, a.lastMessageAt ?? a.createdAt) || compareUtf8(b.id, a.id);
}

/**
 * @example
 * const store = new ChatStore(cloudflareBackend(env));
 */
export function cloudflareBackend(bindings: ChatStoreBindings): Backend {
  const shards = directoryShards(bindings);
  const inConversation = <T>(conversationId: string, method: string, ...args: unknown[]): Promise<T> =>
    callObject<T>(conversationObject(bindings, conversationId), method, args);
  const inShard = <T>(shard: number, method: string, ...args: unknown[]): Promise<T> =>
    callObject<T>(directoryShard(bindings, shard), method, args);
  /** The same call to every shard, their answers in shard order. */
  const inEveryShard = <T>(method: string, ...args: unknown[]): Promise<T[]> =>
    Promise.all(Array.from({ length: shards }, (_, shard) => inShard<T>(shard, method, ...args)));
  /** The conversation a message id belongs to: its claim, in the id's shard. */
  const ownerOf = (id: string): Promise<string | undefined> =>
    inShard<string | undefined>(shardOf(id, shards), 'ownerOf', id);

  return {
    name: 'cloudflare',

    append: (request) => inConversation<AppendResult[]>(request.conversationId, 'append', request),

    async getMessage(id) {
      const conversationId = await ownerOf(id);
      return conversationId === undefined
        ? undefined
        : inConversation<Message | undefined>(conversationId, 'getMessage', id);
    },

    async getMessageByExternalId(externalId, conversationId) {
      if (conversationId !== undefined) {
        return inConversation<Message | undefined>(conversationId, 'getMessageByExternalId', externalId);
      }
      // The smallest (conversationId, seq) of every shard's first.
      const firsts = (await inEveryShard<Message | undefined>('firstByExternalId', externalId)).filter(
        (message): message is Message => message !== undefined,
      );
      return firsts.sort((a, b) => compareUtf8(a.conversationId, b.conversationId) || a.seq - b.seq)[0];
    },

    range: (conversationId, query) => inConversation<Message[]>(conversationId, 'range', query),

    async updateMessage(id, change) {
      const conversationId = await ownerOf(id);
      if (conversationId === undefined) return undefined;
      // The store's change is a function: it runs here, on the message as read, and the object
      // stores its result only if the message did not change in between.
      return untilUnchanged(`message ${id}`, async () => {
        const current = await inConversation<Message | undefined>(conversationId, 'getMessage', id);
        if (current === undefined) return undefined;
        const next = change(structuredClone(current));
        if (next === undefined) return current;
        const outcome = await inConversation<Message | 'changed' | undefined>(
          conversationId,
          'replaceMessage',
          id,
          current,
          next,
        );
        return outcome === 'changed' ? CHANGED : outcome;
      });
    },

    async removeMessage(id, options) {
      refuseCompaction(options);
      const conversationId = await ownerOf(id);
      return conversationId !== undefined && inConversation<boolean>(conversationId, 'removeMessage', id);
    },

    async search(query) {
      // BM25 over the whole store: the shards' statistics summed, then each shard's best hits.
      const parts = await inEveryShard<CorpusStatistics>('searchStatistics', query.terms);
      const statistics: CorpusStatistics = {
        documents: parts.reduce((sum, part) => sum + part.documents, 0),
        words: parts.reduce((sum, part) => sum + part.words, 0),
        containing: query.terms.map((_, i) => parts.reduce((sum, part) => sum + (part.containing[i] as number), 0)),
      };
      const hits =
        query.conversationId === undefined
          ? (await inEveryShard<BackendSearchHit[]>('search', query, statistics)).flat()
          : await inShard<BackendSearchHit[]>(shardOf(query.conversationId, shards), 'search', query, statistics);
      return hits.sort((a, b) => b.score - a.score || compareUtf8(a.message.id, b.message.id)).slice(0, query.limit);
    },

    getConversation: (id) => inConversation<Conversation | undefined>(id, 'getConversation'),

    async listConversations(query: ConversationQuery) {
      const pages = await inEveryShard<Conversation[]>('listConversations', query);
      return pages.flat().sort(byActivity).slice(0, query.limit);
    },

    createConversation: (request) => inConversation<Conversation>(request.id, 'createConversation', request),
    updateConversation: (id, patch, now) => inConversation(id, 'updateConversation', patch, now),
    addParticipants: (id, participants, now) => inConversation(id, 'addParticipants', participants, now),
    removeParticipant: (id, participantId, now) => inConversation(id, 'removeParticipant', participantId, now),

    async deleteConversation(id, options: ConversationDeletion) {
      refuseCompaction(options);
      return inConversation<boolean>(id, 'deleteConversation', options);
    },

    async stats(conversationId): Promise<Stats> {
      if (conversationId !== undefined) return inShard<Stats>(shardOf(conversationId, shards), 'stats', conversationId);
      return (await inEveryShard<Stats>('stats')).reduce(addStats, emptyStats());
    },

    async eraseSubject(subjectId, _now, options): Promise<ErasureCounts> {
      refuseCompaction(options);
      const counts: ErasureCounts = { messagesDeleted: 0, conversationsDeleted: [], participantEntriesRemoved: 0 };
      const touched = [...new Set((await inEveryShard<string[]>('subjectConversations', subjectId)).flat())].sort(
        compareUtf8,
      );
      for (const conversationId of touched) {
        const erased = await inConversation<ConversationErasure>(conversationId, 'eraseSubject', subjectId);
        counts.messagesDeleted += erased.messagesDeleted;
        counts.participantEntriesRemoved += erased.participantEntriesRemoved;
        if (erased.conversationDeleted) counts.conversationsDeleted.push(conversationId);
      }
      return counts;
    },

    async conversationIds(after, limit) {
      const pages = await inEveryShard<string[]>('conversationIds', after ?? null, limit);
      return pages.flat().sort(compareUtf8).slice(0, limit);
    },

    async compact() {
      throw cannotCompact();
    },

    async close() {},
  };
}
