/**
 * The `Backend` a Worker's `ChatStore` runs on: each call goes to the object that answers it. What
 * one conversation holds (append, ranges, its messages by id or external id, edits, deletes, the
 * conversation itself) goes to that conversation's object, the system of record; what spans
 * conversations (a message by id alone, listings, search, stats, erasure's reach, the export scan)
 * goes to the directory, which the conversation objects keep up to date before they answer.
 */
import type { Backend, ConversationDeletion, ErasureCounts, RemovalOptions } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { AppendResult, Conversation, Message } from '../../model.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { type ChatStoreBindings, conversationObject, directoryObject } from './bindings.js';
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

/**
 * @example
 * const store = new ChatStore(cloudflareBackend(env));
 */
export function cloudflareBackend(bindings: ChatStoreBindings): Backend {
  const inConversation = <T>(conversationId: string, method: string, ...args: unknown[]): Promise<T> =>
    callObject<T>(conversationObject(bindings, conversationId), method, args);
  const inDirectory = <T>(method: string, ...args: unknown[]): Promise<T> =>
    callObject<T>(directoryObject(bindings), method, args);
  /** The conversation a message id belongs to, from the directory. */
  const ownerOf = (id: string): Promise<string | undefined> => inDirectory<string | undefined>('ownerOf', id);

  return {
    name: 'cloudflare',

    append: (request) => inConversation<AppendResult[]>(request.conversationId, 'append', request),
    getMessage: (id) => inDirectory<Message | undefined>('getMessage', id),
    getMessageByExternalId: (externalId, conversationId) =>
      conversationId === undefined
        ? inDirectory<Message | undefined>('firstByExternalId', externalId)
        : inConversation<Message | undefined>(conversationId, 'getMessageByExternalId', externalId),
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

    search: (query) => inDirectory('search', query),

    getConversation: (id) => inConversation<Conversation | undefined>(id, 'getConversation'),
    listConversations: (query) => inDirectory('listConversations', query),
    createConversation: (request) => inConversation<Conversation>(request.id, 'createConversation', request),
    updateConversation: (id, patch, now) => inConversation(id, 'updateConversation', patch, now),
    addParticipants: (id, participants, now) => inConversation(id, 'addParticipants', participants, now),
    removeParticipant: (id, participantId, now) => inConversation(id, 'removeParticipant', participantId, now),
    async deleteConversation(id, options: ConversationDeletion) {
      refuseCompaction(options);
      return inConversation<boolean>(id, 'deleteConversation', options);
    },

    stats: (conversationId) => inDirectory('stats', conversationId),

    async eraseSubject(subjectId, _now, options): Promise<ErasureCounts> {
      refuseCompaction(options);
      const counts: ErasureCounts = { messagesDeleted: 0, conversationsDeleted: [], participantEntriesRemoved: 0 };
      for (const conversationId of await inDirectory<string[]>('subjectConversations', subjectId)) {
        const erased = await inConversation<ConversationErasure>(conversationId, 'eraseSubject', subjectId);
        counts.messagesDeleted += erased.messagesDeleted;
        counts.participantEntriesRemoved += erased.participantEntriesRemoved;
        if (erased.conversationDeleted) counts.conversationsDeleted.push(conversationId);
      }
      return counts;
    },

    conversationIds: (after, limit) => inDirectory<string[]>('conversationIds', after ?? null, limit),

    async compact() {
      throw cannotCompact();
    },

    async close() {},
  };
}
