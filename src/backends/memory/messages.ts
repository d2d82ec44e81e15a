/** The memory engine's message calls: append under the plan's rules, lookups, seq-range reads, updates, removal. */
import type { AppendRequest, Backend, RangeQuery } from '../../backend.js';
import type { AppendResult, Message } from '../../model.js';
import { planAppend, writesNothing } from '../../plan.js';
import { compareUtf8 } from '../../text.js';
import {
  addMissing,
  copy,
  createStored,
  ensureOpen,
  inTimeRange,
  type MemoryState,
  removeStoredMessage,
} from './state.js';

type MessageOperations = Pick<
  Backend,
  'append' | 'getMessage' | 'getMessageByExternalId' | 'range' | 'updateMessage' | 'removeMessage'
>;

export function messageOperations(state: MemoryState): MessageOperations {
  const { conversations, messagesById } = state;
  return {
    async append(request: AppendRequest): Promise<AppendResult[]> {
      ensureOpen(state);
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
        createStored(state, {
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
      ensureOpen(state);
      const message = messagesById.get(id);
      return message === undefined ? undefined : copy(message);
    },

    async getMessageByExternalId(externalId, conversationId) {
      ensureOpen(state);
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
      ensureOpen(state);
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
      ensureOpen(state);
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
      ensureOpen(state);
      const message = messagesById.get(id);
      if (message === undefined) return false;
      removeStoredMessage(state, message);
      return true;
    },
  };
}
