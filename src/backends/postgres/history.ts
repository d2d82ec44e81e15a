/**
 * The old design's log queries, beyond the `Backend` contract: a participant's messages, failed
 * deliveries, messages with media, replies, metadata containment; each is served by an index of
 * its own (`test/postgres-explain` checks the plans).
 */
import { ChatStoreError } from '../../errors.js';
import { normalizeTime } from '../../time.js';
import type { PgContext } from './context.js';
import type { PostgresBackend } from './types.js';

const MAX_HISTORY = 1000;

export function historyOperations(
  ctx: PgContext,
): Pick<PostgresBackend, 'bySender' | 'failed' | 'withMedia' | 'replies' | 'byMetadata'> {
  const { sql } = ctx;
  return {
    async bySender(senderId, options = {}) {
      return ctx.messages(sql.bySender, [senderId, historyTime(options.before, 'before'), historyLimit(options.limit)]);
    },

    async failed(options = {}) {
      return ctx.messages(sql.failed, [
        historyTime(options.before, 'before'),
        options.conversationId ?? null,
        historyLimit(options.limit),
      ]);
    },

    async withMedia(conversationId, options = {}) {
      return ctx.messages(sql.withMedia, [
        conversationId,
        options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        historyLimit(options.limit),
      ]);
    },

    async replies(messageId, options = {}) {
      return ctx.messages(sql.replies, [messageId, historyLimit(options.limit)]);
    },

    async byMetadata(containment, options = {}) {
      if (typeof containment !== 'object' || containment === null || Array.isArray(containment)) {
        throw new ChatStoreError('INVALID_ARGUMENT', 'containment must be a JSON object', { path: 'containment' });
      }
      return ctx.messages(sql.byMetadata, [
        JSON.stringify(containment),
        options.conversationId ?? null,
        historyLimit(options.limit),
      ]);
    },
  };
}

function historyLimit(limit: number | undefined): number {
  const value = limit ?? 50;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_HISTORY) {
    throw new ChatStoreError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_HISTORY}`, {
      path: 'limit',
    });
  }
  return value;
}

function historyTime(time: string | Date | number | undefined, path: string): string {
  if (time === undefined) return 'infinity';
  const iso = normalizeTime(time);
  if (iso === undefined) throw new ChatStoreError('INVALID_ARGUMENT', `${path} must be a time`, { path });
  return iso;
}
