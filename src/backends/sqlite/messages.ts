/**
 * Messages one by one and by seq range: read by id or external id, read a range of one
 * conversation, update and remove one message.
 */
import type Database from 'better-sqlite3';
import type { Backend, RangeQuery } from '../../backend.js';
import type { Message } from '../../model.js';
import type { SqliteContext } from './context.js';
import { erasing } from './erasure.js';
import type { SqliteStatements } from './prepared.js';
import { messageParams, toMessage } from './rows.js';
import { type RangeParams, type RangeShape, rangeSql } from './statements.js';

type MessageOperations = Pick<
  Backend,
  'getMessage' | 'getMessageByExternalId' | 'range' | 'updateMessage' | 'removeMessage'
>;

export function messageOperations(ctx: SqliteContext): MessageOperations {
  const { sql, read, write } = ctx;
  const rangeStatement = rangeStatements(ctx.db);
  return {
    async getMessage(id: string): Promise<Message | undefined> {
      return read(() => {
        const row = sql.messageById.get(id);
        return row === undefined ? undefined : toMessage(row);
      });
    },

    async getMessageByExternalId(externalId: string, conversationId?: string): Promise<Message | undefined> {
      return read(() => {
        const row =
          conversationId === undefined
            ? sql.firstMessageByExternalId.get(externalId)
            : sql.messageByExternalId.get(externalId, conversationId);
        return row === undefined ? undefined : toMessage(row);
      });
    },

    async range(conversationId: string, query: RangeQuery): Promise<Message[]> {
      return read(() => {
        const shape: RangeShape = {
          order: query.order,
          includeDeleted: query.includeDeleted,
          from: query.from !== undefined,
          to: query.to !== undefined,
        };
        const bodies = rangeStatement(shape).all({
          conversationId,
          afterSeq: query.afterSeq ?? 0,
          beforeSeq: query.beforeSeq ?? Number.MAX_SAFE_INTEGER,
          ...(query.from === undefined ? {} : { from: query.from }),
          ...(query.to === undefined ? {} : { to: query.to }),
          limit: query.limit,
        });
        return bodies.map((body) => JSON.parse(body) as Message);
      });
    },

    async updateMessage(id, change): Promise<Message | undefined> {
      return write(() => updateMessageNow(sql, id, change));
    },

    /** Resolves once none of the message's bytes is left in the file or its WAL (see `erasure.ts`). */
    async removeMessage(id: string): Promise<boolean> {
      return erasing(ctx, (erased) => {
        const stored = sql.messageById.get(id);
        if (stored !== undefined) erased.addMessage(stored.body);
        const removed = sql.removeMessage.get(id);
        if (removed === undefined) return false;
        sql.uncountMessage.run(removed.conversation_id);
        return true;
      });
    },
  };
}

function updateMessageNow(
  sql: SqliteStatements,
  id: string,
  change: (current: Message) => Message | undefined,
): Message | undefined {
  const row = sql.messageById.get(id);
  if (row === undefined) return undefined;
  const current = toMessage(row);
  const next = change(toMessage(row));
  if (next === undefined) return current;
  sql.updateMessage.run(
    messageParams({ ...next, id: current.id, conversationId: current.conversationId, seq: current.seq }),
  );
  const stored = sql.messageById.get(id);
  return stored === undefined ? undefined : toMessage(stored);
}

/** The range statement of each shape, prepared on first use and kept for the connection's life. */
function rangeStatements(db: Database.Database): (shape: RangeShape) => Database.Statement<[RangeParams], string> {
  const ranges = new Map<string, Database.Statement<[RangeParams], string>>();
  return (shape) => {
    const text = rangeSql(shape);
    let statement = ranges.get(text);
    if (statement === undefined) {
      // pluck: the one selected column as a plain string, no row object to build
      statement = db.prepare<[RangeParams], string>(text).pluck();
      ranges.set(text, statement);
    }
    return statement;
  };
}
