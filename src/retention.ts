/**
 * Retention on any backend: every message created before a time is hard-deleted. A backend (or a
 * tier) with its own way (`Backend.expireMessages`) is asked; else each conversation is scanned
 * oldest first and each expired message removed with `removeMessage`, so the engine's counts, its
 * search index and every tier in front follow as for any hard delete.
 */
import type { Backend, ExpiryCounts, ExpiryRequest } from './backend.js';
import type { Message } from './model.js';

const PAGE = 500;

export function expireMessages(backend: Backend, request: ExpiryRequest): Promise<ExpiryCounts> {
  return backend.expireMessages === undefined ? expireByScan(backend, request) : backend.expireMessages(request);
}

/** Retention message by message, conversation by conversation (what `expireMessages` falls back on). */
export async function expireByScan(backend: Backend, request: ExpiryRequest): Promise<ExpiryCounts> {
  const counts: ExpiryCounts = { messagesDeleted: 0, partitionsDropped: [], archiveFilesRewritten: 0 };
  let after: string | undefined;
  for (;;) {
    const ids = await backend.conversationIds(after, PAGE);
    for (const conversationId of ids) {
      let afterSeq = 0;
      for (;;) {
        const expired = await backend.range(conversationId, {
          order: 'asc',
          afterSeq,
          limit: PAGE,
          includeDeleted: true,
          to: request.before,
        });
        for (const message of expired) {
          if (request.dryRun || (await backend.removeMessage(message.id))) counts.messagesDeleted += 1;
        }
        if (expired.length < PAGE) break;
        afterSeq = (expired[expired.length - 1] as Message).seq;
      }
    }
    if (ids.length < PAGE) return counts;
    after = ids[ids.length - 1];
  }
}

/** Two runs' counts added. */
export function addExpiry(a: ExpiryCounts, b: ExpiryCounts): ExpiryCounts {
  return {
    messagesDeleted: a.messagesDeleted + b.messagesDeleted,
    partitionsDropped: [...a.partitionsDropped, ...b.partitionsDropped],
    archiveFilesRewritten: a.archiveFilesRewritten + b.archiveFilesRewritten,
  };
}
