/**
 * `append`: the duplicate checks, `planAppend`'s rules, and the inserts and counter updates, all in
 * one write of the group commit.
 */
import type { AppendRequest, Backend } from '../../backend.js';
import type { AppendResult, Message } from '../../model.js';
import { planAppend, writesNothing } from '../../plan.js';
import type { SqliteContext } from './context.js';
import { addParticipantRows } from './conversations.js';
import { messageParams, toMessage } from './rows.js';

export function appendOperations(ctx: SqliteContext): Pick<Backend, 'append'> {
  return {
    async append(request: AppendRequest): Promise<AppendResult[]> {
      return ctx.write(() => appendNow(ctx, request));
    },
  };
}

function appendNow({ sql, indexer }: SqliteContext, request: AppendRequest): AppendResult[] {
  const conversationId = request.conversationId;
  const existing = sql.conversation.get(conversationId);
  const ids = request.messages.map((message) => message.id);
  const externalIds = request.messages.flatMap((message) =>
    message.externalId === undefined ? [] : [message.externalId],
  );
  const byId = new Map<string, Message>();
  for (const row of sql.messagesByIds.all(JSON.stringify(ids))) {
    const message = toMessage(row);
    byId.set(message.id, message);
  }
  const byExternalId = new Map<string, Message>();
  if (existing !== undefined && externalIds.length > 0) {
    for (const row of sql.messagesByExternalIds.all(JSON.stringify(externalIds), conversationId)) {
      const message = toMessage(row);
      byExternalId.set(message.externalId as string, message);
    }
  }
  const plan = planAppend(request, existing?.last_seq ?? 0, { byId, byExternalId });
  if (writesNothing(request, plan, existing !== undefined)) return plan.results;
  const restore = request.restore;
  if (existing === undefined) {
    sql.insertConversation.run({
      id: conversationId,
      type: request.conversation.type,
      title: request.conversation.title ?? null,
      channel: request.conversation.channel ?? null,
      metadata: JSON.stringify(request.conversation.metadata),
      now: restore?.createdAt ?? request.now,
    });
  }
  for (const message of plan.inserts) sql.insertMessage.run(messageParams(message));
  if (plan.inserts.length > 0) indexer.schedule();
  addParticipantRows(sql, conversationId, request.participants);
  const counters = {
    id: conversationId,
    lastSeq: plan.lastSeq,
    inserted: plan.inserts.length,
    lastMessageAt: plan.lastMessageAt ?? null,
  };
  sql.afterAppend.run({
    ...counters,
    updatedAt: restore?.updatedAt ?? request.now,
    deletedAt: restore?.deletedAt ?? null,
  });
  return plan.results;
}
