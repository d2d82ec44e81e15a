/**
 * One conversation's messages: by id, by external id, a seq range (one prepared statement per
 * range shape), an optimistic read-modify-write of one message (see `optimistic.ts`) and removal.
 */
import type { Backend, RangeQuery, RemovalOptions } from '../../backend.js';
import type { Message } from '../../model.js';
import { compactAfter } from '../compaction.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { fromStoredMessage, messageBody, messageColumns, type StoredMessageRow } from '../sql/rows.js';
import { rangeShape } from '../sql/shapes.js';
import { compactTables } from './compaction.js';
import type { PgContext } from './context.js';

export function messageOperations(
  ctx: PgContext,
): Pick<Backend, 'getMessage' | 'getMessageByExternalId' | 'range' | 'updateMessage' | 'removeMessage'> {
  const { sql } = ctx;
  return {
    async getMessage(id: string): Promise<Message | undefined> {
      const [row] = await ctx.rows<StoredMessageRow>(sql.message, [id]);
      return row === undefined ? undefined : fromStoredMessage(row);
    },

    async getMessageByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
      const [row] =
        conversationId === undefined
          ? await ctx.rows<StoredMessageRow>(sql.firstMessageByExternalId, [externalId])
          : await ctx.rows<StoredMessageRow>(sql.messageByExternalId, [conversationId, externalId]);
      return row === undefined ? undefined : fromStoredMessage(row);
    },

    async range(conversationId: string, range: RangeQuery): Promise<Message[]> {
      const rangeOf = rangeShape(range);
      const { text, params } = ctx.shape(`range:${JSON.stringify(rangeOf)}`, () => sql.range(rangeOf));
      const values: Record<string, unknown> = {
        conversationId,
        afterSeq: range.afterSeq ?? 0,
        beforeSeq: range.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        from: range.from,
        to: range.to,
        limit: range.limit,
      };
      return ctx.messages(
        text,
        params.map((name) => values[name]),
      );
    },

    updateMessage(id, change): Promise<Message | undefined> {
      return untilUnchanged(`message ${id}`, async () => {
        const [row] = await ctx.rows<StoredMessageRow & { row_version: string }>(sql.messageForUpdate, [id]);
        if (row === undefined) return undefined;
        const current = fromStoredMessage(row);
        const next = change(fromStoredMessage(row));
        if (next === undefined) return current;
        const columns = messageColumns({
          ...next,
          id: current.id,
          conversationId: current.conversationId,
          seq: current.seq,
        });
        const [updated] = await ctx.rows<StoredMessageRow>(sql.updateMessage, [
          current.conversationId,
          current.seq,
          current.createdAt,
          row.row_version,
          columns.content,
          columns.content === current.content ? null : ctx.fullText.vectorValue(columns.search_text),
          columns.metadata === null ? null : JSON.stringify(columns.metadata),
          columns.status,
          columns.error_code,
          columns.error_message,
          columns.queued_at,
          columns.sent_at,
          columns.delivered_at,
          columns.read_at,
          columns.failed_at,
          columns.edited_at,
          columns.deleted_at,
          JSON.stringify(messageBody(next)),
        ]);
        // No row: someone changed (or removed) the message since it was read; read it again.
        return updated === undefined ? CHANGED : fromStoredMessage(updated);
      });
    },

    async removeMessage(id: string, options?: RemovalOptions): Promise<boolean> {
      const [row] = await ctx.rows<{ removed: number; parts: string[] | null }>(sql.removeMessage, [id]);
      const removed = (row?.removed ?? 0) > 0;
      if (options?.compact !== true) return removed;
      return compactAfter(removed, () => compactTables(ctx, row?.parts ?? []));
    },
  };
}
