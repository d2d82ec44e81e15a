/**
 * Events applied to a store, in the payload's order: the messages of one conversation that come
 * together are one `append` (atomic: all or none; a retried webhook's come back as duplicates by
 * their external ids), a status is `updateStatus` (the store moves it forward only, so statuses
 * out of order or repeated change nothing they should not), an edit is `edit` of the message with
 * that external id. Resolves once the store has acknowledged every write.
 */
import { isChatStoreError } from '../errors.js';
import type { NewConversation, NewMessage } from '../model.js';
import type { ChatStore } from '../store.js';
import type { IngestEvent } from './events.js';

export interface IngestResult {
  /** Messages stored now, and messages that were stored already (a retry). */
  stored: number;
  duplicates: number;
  /** Statuses applied, and statuses of messages this store does not have (sent by other means). */
  statuses: number;
  unknownStatuses: number;
  /** Messages whose text an edit changed. */
  edited: number;
}

export async function applyEvents(store: ChatStore, events: readonly IngestEvent[]): Promise<IngestResult> {
  const result: IngestResult = { stored: 0, duplicates: 0, statuses: 0, unknownStatuses: 0, edited: 0 };
  let batch: { conversationId: string; messages: NewMessage[]; conversation: NewConversation | undefined } | undefined;
  const flush = async (): Promise<void> => {
    if (batch === undefined) return;
    const { conversationId, messages, conversation } = batch;
    batch = undefined;
    await append(store, conversationId, messages, conversation, result);
  };
  for (const event of events) {
    if (event.kind === 'message') {
      if (batch !== undefined && batch.conversationId !== event.conversationId) await flush();
      batch ??= { conversationId: event.conversationId, messages: [], conversation: event.conversation };
      batch.messages.push(event.message);
      continue;
    }
    await flush();
    if (event.kind === 'status') {
      try {
        await store.updateStatus(event.externalId, event.status, {
          at: event.at,
          conversationId: event.conversationId,
          ...(event.error === undefined ? {} : { error: event.error }),
        });
        result.statuses += 1;
      } catch (error) {
        if (!isChatStoreError(error) || error.code !== 'NOT_FOUND') throw error;
        result.unknownStatuses += 1;
      }
      continue;
    }
    const stored = await store.getByExternalId(event.externalId, event.conversationId);
    if (stored === undefined) await append(store, event.conversationId, [event.message], event.conversation, result);
    else if (stored.content !== event.content) {
      await store.edit(stored.id, { content: event.content });
      result.edited += 1;
    }
  }
  await flush();
  return result;
}

async function append(
  store: ChatStore,
  conversationId: string,
  messages: NewMessage[],
  conversation: NewConversation | undefined,
  result: IngestResult,
): Promise<void> {
  const appended = await store.append(conversationId, messages, conversation === undefined ? {} : { conversation });
  for (const { duplicate } of appended) {
    if (duplicate) result.duplicates += 1;
    else result.stored += 1;
  }
}
