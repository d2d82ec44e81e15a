/** The memory engine's store-wide calls: stats, erasure of a person, the export scan's conversation ids, close. */
import type { Backend, ErasureCounts } from '../../backend.js';
import type { Stats } from '../../model.js';
import { concernsSubject } from '../../subject.js';
import { compareUtf8 } from '../../text.js';
import { countChannel, countMessage, emptyStats } from '../stats.js';
import { ensureOpen, type MemoryState, removeConversation, removeStoredMessage } from './state.js';

export function maintenanceOperations(
  state: MemoryState,
): Pick<Backend, 'stats' | 'eraseSubject' | 'conversationIds' | 'close'> {
  const { conversations } = state;
  return {
    async stats(conversationId): Promise<Stats> {
      ensureOpen(state);
      const sources =
        conversationId === undefined
          ? [...conversations.values()]
          : [conversations.get(conversationId)].filter((s) => s !== undefined);
      const stats = emptyStats();
      stats.conversations = sources.filter((s) => s.conversation.deletedAt === undefined).length;
      for (const stored of sources) {
        const before = stats.total;
        for (const message of stored.messages.values()) countMessage(stats, message);
        countChannel(stats, stored.conversation, stats.total - before);
      }
      return stats;
    },

    async eraseSubject(subjectId): Promise<ErasureCounts> {
      ensureOpen(state);
      const counts: ErasureCounts = { messagesDeleted: 0, conversationsDeleted: [], participantEntriesRemoved: 0 };
      const named = conversations.get(subjectId);
      if (named !== undefined) {
        counts.messagesDeleted += named.messages.size;
        counts.participantEntriesRemoved += named.participants.has(subjectId) ? 1 : 0;
        counts.conversationsDeleted.push(subjectId);
        removeConversation(state, subjectId);
      }
      for (const stored of conversations.values()) {
        for (const message of [...stored.messages.values()]) {
          if (concernsSubject(message, subjectId)) {
            removeStoredMessage(state, message);
            counts.messagesDeleted += 1;
          }
        }
        if (stored.participants.delete(subjectId)) counts.participantEntriesRemoved += 1;
      }
      return counts;
    },

    async conversationIds(after, limit) {
      ensureOpen(state);
      return [...conversations.keys()]
        .filter((id) => after === undefined || compareUtf8(id, after) > 0)
        .sort(compareUtf8)
        .slice(0, limit);
    },

    async close() {
      state.closed = true;
    },
  };
}
