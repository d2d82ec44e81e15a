/**
 * The append path (see the module comment of `index.ts`): the plain case in one round trip through
 * the append procedure, everything else in a transaction under the conversation's counter-row lock,
 * where `planAppend` decides from the stored matches.
 */
import type { AppendRequest, Backend, MessageDraft } from '../../backend.js';
import type { AppendResult, Message } from '../../model.js';
import { type AppendPlan, planAppend, writesNothing } from '../../plan.js';
import { appendFastThenUnderLock } from '../sql/append.js';
import type { MysqlContext } from './context.js';
import { errorCode, toChatStoreError } from './errors.js';
import { datetime, datetimeOrNull, type MessageRow, messageInput, participantsJson, toMessage } from './rows.js';
import { EXPECTED_LAST_SEQ_SIGNAL } from './schema.js';

/** General-path attempts of one append before its last failure is reported. */
const APPEND_ATTEMPTS = 8;

const NO_MATCHES = { byId: new Map<string, Message>(), byExternalId: new Map<string, Message>() };

export function appendOperations(ctx: MysqlContext): Pick<Backend, 'append'> {
  return {
    async append(request: AppendRequest): Promise<AppendResult[]> {
      ctx.ensureOpen();
      const { expectedLastSeq: _checkedInSql, ...unchecked } = request;
      const relative = planAppend(unchecked, 0, NO_MATCHES);
      return appendFastThenUnderLock({
        // A call holding its own duplicates is planned under the lock: one of them may be stored already.
        // So is a restore: it keeps the given seqs, which the procedure would count anew.
        ...(relative.inserts.length === request.messages.length && request.restore === undefined
          ? { inOneTrip: () => appendInOneTrip(ctx, request, relative) }
          : {}),
        underLock: () => appendUnderLock(ctx, request),
        retryable: needsPlanUnderLock,
        attempts: APPEND_ATTEMPTS,
        toError: toChatStoreError,
      });
    },
  };
}

/** The plain case in one round trip; seqs of `relative` count from 0 and are shifted by the counter. */
async function appendInOneTrip(
  ctx: MysqlContext,
  request: AppendRequest,
  relative: AppendPlan,
): Promise<AppendResult[]> {
  const [sets] = await ctx.pool.execute(ctx.sql.appendCall, [
    request.conversationId,
    request.conversation.type,
    request.conversation.title ?? null,
    JSON.stringify(request.conversation.metadata),
    datetime(request.now),
    request.expectedLastSeq ?? null,
    relative.inserts.length,
    datetimeOrNull(relative.lastMessageAt),
    JSON.stringify(relative.inserts.map((message) => messageInput(message, message.seq, ctx.tokens))),
    participantsJson(request.participants),
    request.conversation.channel ?? null,
  ]);
  const base = Number((sets as { base: number | string }[][])[0]?.[0]?.base);
  return relative.results.map((result) => ({
    message: { ...result.message, seq: result.message.seq + base },
    duplicate: result.duplicate,
  }));
}

/** Everything else: under the counter row's lock, the stored matches go to planAppend. */
function appendUnderLock(ctx: MysqlContext, request: AppendRequest): Promise<AppendResult[]> {
  const { sql, tokens } = ctx;
  return ctx.transaction(async (run) => {
    const id = request.conversationId;
    const now = datetime(request.now);
    const restore = request.restore;
    // A restore creates a missing conversation even with no new message, so it asks first (under
    // the lock, or the gap lock where the row would be) whether the conversation exists.
    const existed = restore === undefined ? true : await ctx.lock(run, id);
    const createdAt = restore === undefined ? now : datetime(restore.createdAt);
    // A new conversation gets its row now, to be locked; a call that then stores nothing fails
    // (a new conversation holds no duplicate, so only a CONFLICT stores nothing) and rolls it back.
    await run(sql.ensureConversation, [
      id,
      request.conversation.type,
      request.conversation.title ?? null,
      request.conversation.channel ?? null,
      JSON.stringify(request.conversation.metadata),
      createdAt,
      createdAt,
      createdAt,
    ]);
    const [counter] = (await run(sql.lockConversation, [id])) as { last_seq: number | string }[];
    const lastSeq = Number(counter?.last_seq ?? 0);
    // The first plain read of the transaction, after the lock: it sees every append committed before.
    const byId = new Map<string, Message>();
    const found = (await run(sql.messagesByIds, [JSON.stringify(request.messages.map((m) => m.id))])) as MessageRow[];
    for (const row of found) byId.set(row.id, toMessage(row));
    const externalIds = externalIdsOf(request.messages);
    const byExternalId = new Map<string, Message>();
    if (externalIds.length > 0) {
      for (const row of (await run(sql.messagesByExternalIds, [JSON.stringify(externalIds), id])) as MessageRow[]) {
        const message = toMessage(row);
        if (message.externalId !== undefined) byExternalId.set(message.externalId, message);
      }
    }
    const plan = planAppend(request, lastSeq, { byId, byExternalId });
    if (writesNothing(request, plan, existed)) return plan.results;
    if (plan.inserts.length > 0) {
      await run(sql.insertMessages, [
        id,
        lastSeq,
        JSON.stringify(plan.inserts.map((message) => messageInput(message, message.seq - lastSeq, tokens))),
      ]);
    }
    const lastMessageAt = datetimeOrNull(plan.lastMessageAt);
    if (restore === undefined) {
      await run(sql.afterAppend, [plan.lastSeq, plan.inserts.length, lastMessageAt, lastMessageAt, now, id]);
    } else {
      await run(sql.afterRestore, [
        plan.lastSeq,
        plan.inserts.length,
        lastMessageAt,
        lastMessageAt,
        datetime(restore.updatedAt),
        datetimeOrNull(restore.deletedAt),
        id,
      ]);
    }
    const participants = participantsJson(request.participants);
    if (participants !== null) await run(sql.insertParticipants, [id, participants]);
    return plan.results;
  });
}

function externalIdsOf(drafts: readonly MessageDraft[]): string[] {
  return drafts.flatMap((draft) => (draft.externalId === undefined ? [] : [draft.externalId]));
}

/**
 * The one-trip path could not settle the call: a duplicate on a unique key (stored before or racing
 * in), a stale `expectedLastSeq`, or a deadlock with another writer.
 */
function needsPlanUnderLock(error: unknown): boolean {
  const code = errorCode(error);
  if (code === 'ER_DUP_ENTRY' || code === 'ER_LOCK_DEADLOCK') return true;
  return code === 'ER_SIGNAL_EXCEPTION' && error instanceof Error && error.message.includes(EXPECTED_LAST_SEQ_SIGNAL);
}
