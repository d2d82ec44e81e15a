/**
 * Messages one by one and by seq range: read by id or external id, read a range of one
 * conversation, update and remove one message.
 */
import type { Backend, RangeQuery, RemovalOptions } from '../../backend.js';
import type { Message } from '../../model.js';
import { compactAfter } from '../compaction.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { rangeShape } from '../sql/shapes.js';
import { compactTables } from './compaction.js';
import { bind, type MysqlContext, type ResultHeader } from './context.js';
import { datetime, datetimeOrNull, type MessageRow, messageBody, toMessage } from './rows.js';
import { searchDocument } from './search.js';

type MessageOperations = Pick<
  Backend,
  'getMessage' | 'getMessageByExternalId' | 'range' | 'updateMessage' | 'removeMessage'
>;

export function messageOperations(ctx: MysqlContext): MessageOperations {
  const { sql, tokens, rows } = ctx;
  return {
    async getMessage(id: string): Promise<Message | undefined> {
      const [row] = await rows<MessageRow>(sql.message, [id]);
      return row === undefined ? undefined : toMessage(row);
    },

    async getMessageByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
      const [row] =
        conversationId === undefined
          ? await rows<MessageRow>(sql.firstMessageByExternalId, [externalId])
          : await rows<MessageRow>(sql.messageByExternalId, [externalId, conversationId]);
      return row === undefined ? undefined : toMessage(row);
    },

    async range(conversationId: string, range: RangeQuery): Promise<Message[]> {
      const rangeOf = rangeShape(range);
      const statement = ctx.shape(`range:${JSON.stringify(rangeOf)}`, () => sql.range(rangeOf));
      return ctx.messages(
        statement.text,
        bind(statement, {
          conversationId,
          afterSeq: range.afterSeq ?? 0,
          beforeSeq: range.beforeSeq ?? Number.MAX_SAFE_INTEGER,
          from: range.from === undefined ? undefined : datetime(range.from),
          to: range.to === undefined ? undefined : datetime(range.to),
          limit: range.limit,
        }),
      );
    },

    updateMessage(id, change): Promise<Message | undefined> {
      return untilUnchanged(`message ${id}`, async () => {
        const [row] = await rows<MessageRow & { version: number }>(sql.messageForUpdate, [id]);
        if (row === undefined) return undefined;
        const current = toMessage(row);
        const next = change(toMessage(row));
        if (next === undefined) return current;
        const stored: Message = { ...next, id: current.id, conversationId: current.conversationId, seq: current.seq };
        const body = messageBody(stored);
        const document = stored.content === current.content ? undefined : searchDocument(stored.content, tokens);
        const updated = (await ctx.execute(sql.updateMessage, [
          body,
          stored.status ?? null,
          datetimeOrNull(stored.deletedAt),
          document?.termCount ?? null,
          document?.text ?? null,
          current.conversationId,
          current.seq,
          row.version,
        ])) as ResultHeader;
        // No row: someone changed (or removed) the message since it was read; read it again.
        if (updated.affectedRows === 0) return CHANGED;
        return toMessage({
          conversation_id: current.conversationId,
          seq: current.seq,
          id: current.id,
          body,
          deleted_at: stored.deletedAt === undefined ? null : Date.parse(stored.deletedAt),
        });
      });
    },

    async removeMessage(id: string, options?: RemovalOptions): Promise<boolean> {
      const [key] = await rows<{ conversation_id: string; seq: number }>(sql.messageKey, [id]);
      const removed =
        key !== undefined &&
        (await ctx.transaction(async (run) => {
          // The conversation first, as appends lock: the two never wait for each other in a circle.
          await ctx.lock(run, key.conversation_id);
          const removed = ((await run(sql.removeMessage, [key.conversation_id, key.seq, id])) as ResultHeader)
            .affectedRows;
          if (removed > 0) await run(sql.uncount, [removed, key.conversation_id]);
          return removed > 0;
        }));
      return options?.compact === true ? compactAfter(removed, () => compactTables(ctx)) : removed;
    },
  };
}
