/**
 * The in-process backend: everything in maps, nothing on disk. For tests and throwaway bots; it
 * keeps every guarantee of the conformance suite within one process.
 */
import type {
  AppendRequest,
  Backend,
  BackendSearchHit,
  ConversationQuery,
  CreateConversationRequest,
  ErasureCounts,
  RangeQuery,
  SearchQuery,
} from '../backend.js';
import { ChatStoreError } from '../errors.js';
import { applyMergePatch } from '../merge-patch.js';
import type { AppendResult, Conversation, ConversationPatch, Message, Participant, Stats } from '../model.js';
import { planAppend, writesNothing } from '../plan.js';
import { compareUtf8, searchTerms } from '../text.js';

interface StoredConversation {
  conversation: Omit<Conversation, 'participants'>;
  participants: Map<string, Participant>;
  /** Messages by seq; seqs only grow, so insertion order is seq order. */
  messages: Map<number, Message>;
  byExternalId: Map<string, Message>;
}

/**
 * @example
 * import { ChatStore } from 'chatstore';
 * import { memoryBackend } from 'chatstore/memory';
 * const store = new ChatStore(memoryBackend());
 */
export function memoryBackend(): Backend {
  const conversations = new Map<string, StoredConversation>();
  const messagesById = new Map<string, Message>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new ChatStoreError('UNAVAILABLE', 'the memory backend is closed');
  };
  // Copies on the way in and out, so callers can never mutate stored state.
  const copy = <T>(value: T): T => structuredClone(value);

  const snapshot = (stored: StoredConversation): Conversation => {
    const participants = [...stored.participants.values()].sort(
      (a, b) => compareUtf8(a.joinedAt, b.joinedAt) || compareUtf8(a.id, b.id),
    );
    return copy({ ...stored.conversation, participants });
  };

  const createStored = (request: CreateConversationRequest): StoredConversation => {
    const stored: StoredConversation = {
      conversation: {
        id: request.id,
        type: request.type,
        ...(request.title === undefined ? {} : { title: request.title }),
        metadata: copy(request.metadata),
        createdAt: request.now,
        updatedAt: request.now,
        lastSeq: 0,
        messageCount: 0,
      },
      participants: new Map(),
      messages: new Map(),
      byExternalId: new Map(),
    };
    addMissing(stored, request.participants);
    conversations.set(request.id, stored);
    return stored;
  };

  const addMissing = (stored: StoredConversation, participants: Participant[]): void => {
    for (const participant of participants) {
      if (!stored.participants.has(participant.id)) stored.participants.set(participant.id, copy(participant));
    }
  };

  const removeStoredMessage = (message: Message): void => {
    const stored = conversations.get(message.conversationId);
    messagesById.delete(message.id);
    if (stored === undefined) return;
    stored.messages.delete(message.seq);
    if (message.externalId !== undefined) stored.byExternalId.delete(message.externalId);
    stored.conversation.messageCount -= 1;
  };

  const removeConversation = (id: string): void => {
    const stored = conversations.get(id);
    if (stored === undefined) return;
    for (const message of stored.messages.values()) messagesById.delete(message.id);
    conversations.delete(id);
  };

  const inTimeRange = (message: Message, from: string | undefined, to: string | undefined): boolean =>
    (from === undefined || message.createdAt >= from) && (to === undefined || message.createdAt < to);

  return {
    name: 'memory',

    async append(request: AppendRequest): Promise<AppendResult[]> {
      ensureOpen();
      const existing = conversations.get(request.conversationId);
      const byId = new Map<string, Message>();
      const byExternalId = new Map<string, Message>();
      for (const draft of request.messages) {
        const sameId = messagesById.get(draft.id);
        if (sameId !== undefined) byId.set(draft.id, sameId);
        const sameExternal = draft.externalId === undefined ? undefined : existing?.byExternalId.get(draft.externalId);
        if (sameExternal !== undefined && draft.externalId !== undefined)
          byExternalId.set(draft.externalId, sameExternal);
      }
      const plan = planAppend(request, existing?.conversation.lastSeq ?? 0, { byId, byExternalId });
      if (writesNothing(request, plan, existing !== undefined)) return copy(plan.results);
      const restore = request.restore;
      const stored =
        existing ??
        createStored({
          id: request.conversationId,
          ...request.conversation,
          participants: [],
          now: restore?.createdAt ?? request.now,
        });
      if (restore?.deletedAt === undefined) delete stored.conversation.deletedAt;
      else stored.conversation.deletedAt = restore.deletedAt;
      for (const message of plan.inserts) {
        const kept = copy(message);
        stored.messages.set(kept.seq, kept);
        messagesById.set(kept.id, kept);
        if (kept.externalId !== undefined) stored.byExternalId.set(kept.externalId, kept);
      }
      stored.conversation.lastSeq = plan.lastSeq;
      stored.conversation.messageCount += plan.inserts.length;
      if (plan.lastMessageAt !== undefined) stored.conversation.lastMessageAt = plan.lastMessageAt;
      stored.conversation.updatedAt = restore?.updatedAt ?? request.now;
      addMissing(stored, request.participants);
      return copy(plan.results);
    },

    async getMessage(id) {
      ensureOpen();
      const message = messagesById.get(id);
      return message === undefined ? undefined : copy(message);
    },

    async getMessageByExternalId(externalId, conversationId) {
      ensureOpen();
      if (conversationId !== undefined) {
        const message = conversations.get(conversationId)?.byExternalId.get(externalId);
        return message === undefined ? undefined : copy(message);
      }
      const ids = [...conversations.keys()].sort(compareUtf8);
      for (const id of ids) {
        const message = conversations.get(id)?.byExternalId.get(externalId);
        if (message !== undefined) return copy(message);
      }
      return undefined;
    },

    async range(conversationId: string, query: RangeQuery): Promise<Message[]> {
      ensureOpen();
      const stored = conversations.get(conversationId);
      if (stored === undefined) return [];
      const after = query.afterSeq ?? 0;
      const before = query.beforeSeq ?? Number.POSITIVE_INFINITY;
      const result: Message[] = [];
      // Walk seqs from the starting bound: O(page) for dense seqs, like the engines' index scans.
      const step = query.order === 'asc' ? 1 : -1;
      let seq = query.order === 'asc' ? Math.max(after + 1, 1) : Math.min(before - 1, stored.conversation.lastSeq);
      while (
        result.length < query.limit &&
        seq > after &&
        seq < before &&
        seq >= 1 &&
        seq <= stored.conversation.lastSeq
      ) {
        const message = stored.messages.get(seq);
        if (
          message !== undefined &&
          (query.includeDeleted || message.deletedAt === undefined) &&
          inTimeRange(message, query.from, query.to)
        ) {
          result.push(copy(message));
        }
        seq += step;
      }
      return result;
    },

    async updateMessage(id, change) {
      ensureOpen();
      const current = messagesById.get(id);
      if (current === undefined) return undefined;
      const next = change(copy(current));
      if (next === undefined) return copy(current);
      const kept: Message = { ...copy(next), id: current.id, conversationId: current.conversationId, seq: current.seq };
      const stored = conversations.get(current.conversationId);
      messagesById.set(id, kept);
      stored?.messages.set(kept.seq, kept);
      if (kept.externalId !== undefined) stored?.byExternalId.set(kept.externalId, kept);
      return copy(kept);
    },

    async removeMessage(id) {
      ensureOpen();
      const message = messagesById.get(id);
      if (message === undefined) return false;
      removeStoredMessage(message);
      return true;
    },

    async search(query: SearchQuery): Promise<BackendSearchHit[]> {
      ensureOpen();
      // The statistics are the whole index's (docs/api.md, "Search score"): every stored message,
      // soft-deleted ones included, as they stay in the engines' full-text indexes; the filters
      // and soft deletes only choose which hits come back.
      const index: { message: Message; terms: string[] }[] = [];
      for (const stored of conversations.values()) {
        for (const message of stored.messages.values()) index.push({ message, terms: searchTerms(message.content) });
      }
      const score = bm25(index, query.terms);
      const scored = index
        .filter(({ message, terms }) => {
          if (message.deletedAt !== undefined) return false;
          if (query.conversationId !== undefined && message.conversationId !== query.conversationId) return false;
          if (query.senderId !== undefined && message.senderId !== query.senderId) return false;
          return inTimeRange(message, query.from, query.to) && query.terms.every((term) => terms.includes(term));
        })
        .map(({ message, terms }) => ({ message, score: score(terms) }));
      scored.sort((a, b) => b.score - a.score || compareUtf8(a.message.id, b.message.id));
      const after = query.after;
      const resumed =
        after === undefined
          ? scored
          : scored.filter(
              (hit) =>
                hit.score < after.score || (hit.score === after.score && compareUtf8(hit.message.id, after.id) > 0),
            );
      return copy(resumed.slice(0, query.limit));
    },

    async getConversation(id) {
      ensureOpen();
      const stored = conversations.get(id);
      return stored === undefined ? undefined : snapshot(stored);
    },

    async listConversations(query: ConversationQuery) {
      ensureOpen();
      const activity = (c: Omit<Conversation, 'participants'>) => c.lastMessageAt ?? c.createdAt;
      const rows = [...conversations.values()]
        .filter((s) => query.includeDeleted || s.conversation.deletedAt === undefined)
        .filter((s) => query.type === undefined || s.conversation.type === query.type)
        .filter((s) => query.participantId === undefined || s.participants.has(query.participantId))
        .filter((s) => {
          const after = query.after;
          if (after === undefined) return true;
          const at = activity(s.conversation);
          return at < after.activityAt || (at === after.activityAt && compareUtf8(s.conversation.id, after.id) < 0);
        })
        .sort(
          (a, b) =>
            compareUtf8(activity(b.conversation), activity(a.conversation)) ||
            compareUtf8(b.conversation.id, a.conversation.id),
        );
      return rows.slice(0, query.limit).map(snapshot);
    },

    async createConversation(request) {
      ensureOpen();
      if (conversations.has(request.id)) {
        throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
      }
      return snapshot(createStored(request));
    },

    async updateConversation(id, patch: ConversationPatch, now) {
      ensureOpen();
      const stored = conversations.get(id);
      if (stored === undefined) return undefined;
      const conversation = stored.conversation;
      if (patch.type !== undefined) conversation.type = patch.type;
      if (patch.title === null) delete conversation.title;
      else if (patch.title !== undefined) conversation.title = patch.title;
      if (patch.metadata !== undefined)
        conversation.metadata = applyMergePatch(conversation.metadata, copy(patch.metadata));
      conversation.updatedAt = now;
      return snapshot(stored);
    },

    async addParticipants(conversationId, participants, now) {
      ensureOpen();
      const stored = conversations.get(conversationId);
      if (stored === undefined) return undefined;
      addMissing(stored, participants);
      stored.conversation.updatedAt = now;
      return snapshot(stored);
    },

    async removeParticipant(conversationId, participantId, now) {
      ensureOpen();
      const stored = conversations.get(conversationId);
      if (stored === undefined) return undefined;
      stored.participants.delete(participantId);
      stored.conversation.updatedAt = now;
      return snapshot(stored);
    },

    async deleteConversation(id, { hard, now }) {
      ensureOpen();
      const stored = conversations.get(id);
      if (stored === undefined) return false;
      if (hard) {
        removeConversation(id);
        return true;
      }
      stored.conversation.deletedAt ??= now;
      stored.conversation.updatedAt = now;
      for (const message of stored.messages.values()) message.deletedAt ??= now;
      return true;
    },

    async stats(conversationId): Promise<Stats> {
      ensureOpen();
      const sources =
        conversationId === undefined
          ? [...conversations.values()]
          : [conversations.get(conversationId)].filter((s) => s !== undefined);
      const stats: Stats = {
        total: 0,
        incoming: 0,
        outgoing: 0,
        withMedia: 0,
        commands: 0,
        adminCommands: 0,
        failed: 0,
        deleted: 0,
        byRole: { user: 0, assistant: 0, system: 0, tool: 0 },
        conversations: sources.filter((s) => s.conversation.deletedAt === undefined).length,
      };
      for (const stored of sources) {
        for (const message of stored.messages.values()) {
          if (message.deletedAt !== undefined) {
            stats.deleted += 1;
            continue;
          }
          stats.total += 1;
          stats[message.direction] += 1;
          stats.byRole[message.role] += 1;
          if (message.media !== undefined) stats.withMedia += 1;
          if (message.command !== undefined) stats.commands += 1;
          if (message.command?.admin === true) stats.adminCommands += 1;
          if (message.status === 'failed') stats.failed += 1;
        }
      }
      return stats;
    },

    async eraseSubject(subjectId): Promise<ErasureCounts> {
      ensureOpen();
      const counts: ErasureCounts = { messagesDeleted: 0, conversationsDeleted: [], participantEntriesRemoved: 0 };
      const named = conversations.get(subjectId);
      if (named !== undefined) {
        counts.messagesDeleted += named.messages.size;
        counts.participantEntriesRemoved += named.participants.has(subjectId) ? 1 : 0;
        counts.conversationsDeleted.push(subjectId);
        removeConversation(subjectId);
      }
      for (const stored of conversations.values()) {
        for (const message of [...stored.messages.values()]) {
          if (message.senderId === subjectId || message.recipientId === subjectId) {
            removeStoredMessage(message);
            counts.messagesDeleted += 1;
          }
        }
        if (stored.participants.delete(subjectId)) counts.participantEntriesRemoved += 1;
      }
      return counts;
    },

    async conversationIds(after, limit) {
      ensureOpen();
      return [...conversations.keys()]
        .filter((id) => after === undefined || compareUtf8(id, after) > 0)
        .sort(compareUtf8)
        .slice(0, limit);
    },

    async close() {
      closed = true;
    },
  };
}

/**
 * The score of docs/api.md ("Search score"): Okapi BM25 as SQLite FTS5's bm25() computes it, over
 * the whole index (`corpus`), in the same floating-point operations in the same order, so that every
 * engine comes to the same number. Returns the score of one document's terms.
 */
function bm25(corpus: { terms: string[] }[], queryTerms: string[]): (docTerms: string[]) => number {
  const k1 = 1.2;
  const b = 0.75;
  const documents = corpus.length;
  let totalTerms = 0;
  for (const doc of corpus) totalTerms += doc.terms.length;
  const averageLength = totalTerms / documents;
  const idf = queryTerms.map((term) => {
    let containing = 0;
    for (const doc of corpus) if (doc.terms.includes(term)) containing += 1;
    const value = Math.log((documents - containing + 0.5) / (containing + 0.5));
    return value <= 0 ? 1e-6 : value;
  });
  return (docTerms) => {
    let score = 0;
    queryTerms.forEach((term, i) => {
      let frequency = 0;
      for (const t of docTerms) if (t === term) frequency += 1;
      score +=
        (idf[i] as number) *
        ((frequency * (k1 + 1.0)) / (frequency + k1 * (1 - b + (b * docTerms.length) / averageLength)));
    });
    return score;
  };
}
