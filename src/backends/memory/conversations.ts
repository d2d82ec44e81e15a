/** The memory engine's conversation calls: read, list by activity, create, update, members, delete. */
import type { ConversationQuery } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import { applyMergePatch } from '../../merge-patch.js';
import type { Conversation, ConversationPatch } from '../../model.js';
import { compareUtf8 } from '../../text.js';
import { atVersion } from '../conversation-version.js';
import type { ConversationOperations } from '../operations.js';
import { addMissing, copy, createStored, ensureOpen, type MemoryState, removeConversation, snapshot } from './state.js';

export function conversationOperations(state: MemoryState): ConversationOperations {
  const { conversations } = state;
  return {
    async getConversation(id) {
      ensureOpen(state);
      const stored = conversations.get(id);
      return stored === undefined ? undefined : snapshot(stored);
    },

    async listConversations(query: ConversationQuery) {
      ensureOpen(state);
      const activity = (c: Omit<Conversation, 'participants'>) => c.lastMessageAt ?? c.createdAt;
      const rows = [...conversations.values()]
        .filter((s) => query.includeDeleted || s.conversation.deletedAt === undefined)
        .filter((s) => query.type === undefined || s.conversation.type === query.type)
        .filter((s) => query.channel === undefined || s.conversation.channel === query.channel)
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
      ensureOpen(state);
      if (conversations.has(request.id)) {
        throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
      }
      return snapshot(createStored(state, request));
    },

    async updateConversation(id, patch: ConversationPatch, now) {
      ensureOpen(state);
      const stored = conversations.get(id);
      if (stored === undefined) return undefined;
      const conversation = stored.conversation;
      if (patch.type !== undefined) conversation.type = patch.type;
      if (patch.title === null) delete conversation.title;
      else if (patch.title !== undefined) conversation.title = patch.title;
      if (patch.channel === null) delete conversation.channel;
      else if (patch.channel !== undefined) conversation.channel = patch.channel;
      if (patch.metadata !== undefined)
        conversation.metadata = applyMergePatch(conversation.metadata, copy(patch.metadata));
      conversation.updatedAt = now;
      return snapshot(stored);
    },

    async addParticipants(conversationId, participants, now) {
      ensureOpen(state);
      const stored = conversations.get(conversationId);
      if (stored === undefined) return undefined;
      addMissing(stored, participants);
      stored.conversation.updatedAt = now;
      return snapshot(stored);
    },

    async removeParticipant(conversationId, participantId, now) {
      ensureOpen(state);
      const stored = conversations.get(conversationId);
      if (stored === undefined) return undefined;
      stored.participants.delete(participantId);
      stored.conversation.updatedAt = now;
      return snapshot(stored);
    },

    async deleteConversation(id, { hard, now, ifUnchanged }) {
      ensureOpen(state);
      const stored = conversations.get(id);
      if (stored === undefined) return false;
      if (hard) {
        if (!atVersion(stored.conversation, ifUnchanged)) return false;
        removeConversation(state, id);
        return true;
      }
      stored.conversation.deletedAt ??= now;
      stored.conversation.updatedAt = now;
      for (const message of stored.messages.values()) message.deletedAt ??= now;
      return true;
    },
  };
}
