/**
 * `append`: one round trip in the plain case, one statement (`appendMessages`) that locks or creates
 * the conversation's counter row, takes the next seqs, checks that nothing of the call is stored yet
 * and inserts the rows. Otherwise the general path: a transaction that locks the same row, reads the
 * stored matches and lets `planAppend` decide. With monthly partitions, the months the messages fall
 * in get their partitions first.
 */
import type { AppendRequest, Backend, MessageDraft } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { AppendResult, Message } from '../../model.js';
import { type AppendPlan, planAppend, writesNothing } from '../../plan.js';
import { appendFastThenUnderLock } from '../sql/append.js';
import {
  fromStoredMessage,
  messageBody,
  messageColumns,
  participantColumns,
  type StoredMessageRow,
} from '../sql/rows.js';
import type { PgContext } from './context.js';
import { sqlState, toChatStoreError } from './errors.js';
import type { PgTextSearch } from './text-search.js';

/** General-path attempts of one append before its last failure is reported. */
const APPEND_ATTEMPTS = 8;

const NO_MATCHES = { byId: new Map<string, Message>(), byExternalId: new Map<string, Message>() };

export function appendOperations(ctx: PgContext): Pick<Backend, 'append'> {
  return {
    async append(request: AppendRequest): Promise<AppendResult[]> {
      ctx.ensureOpen();
      const { expectedLastSeq: _checkedInSql, ...unchecked } = request;
      const relative = planAppend(unchecked, 0, NO_MATCHES);
      if (ctx.partitions !== undefined) {
        try {
          await ctx.partitions.ensureFor(relative.inserts.map((message) => message.createdAt));
        } catch (error) {
          throw toChatStoreError(error);
        }
      }
      const results = await appendFastThenUnderLock({
        // A restore keeps the given seqs, which the one-trip statement would count anew.
        ...(request.restore === undefined ? { inOneTrip: () => appendInOneTrip(ctx, request, relative) } : {}),
        underLock: () => appendUnderLock(ctx, request),
        retryable: needsPlanUnderLock,
        attempts: APPEND_ATTEMPTS,
        toError: toChatStoreError,
      });
      ctx.plans.written(results.filter((result) => !result.duplicate).length);
      return results;
    },
  };
}

/** The plain case in one round trip; seqs of `relative` count from 0 and are shifted by the counter. */
async function appendInOneTrip(
  ctx: PgContext,
  request: AppendRequest,
  relative: AppendPlan,
): Promise<AppendResult[] | undefined> {
  // Every draft is checked, not only the inserts: a draft the plan took for a duplicate within
  // the call may be stored already, and then the stored message decides.
  const values = appendValues(
    ctx.fullText,
    request,
    request.messages,
    relative.inserts,
    0,
    request.expectedLastSeq ?? null,
    relative.lastMessageAt,
  );
  const [row] = await ctx.rows<{ base: string | number }>(ctx.sql.appendMessages, values);
  if (row === undefined) return undefined;
  const base = Number(row.base);
  return relative.results.map((result) => ({
    message: { ...result.message, seq: result.message.seq + base },
    duplicate: result.duplicate,
  }));
}

/** Everything else: under the counter row's lock, the stored matches go to planAppend. */
function appendUnderLock(ctx: PgContext, request: AppendRequest): Promise<AppendResult[]> {
  const { sql } = ctx;
  return ctx.transaction(async (run) => {
    const id = request.conversationId;
    // A new conversation gets its row now, to be locked; a call that then stores nothing fails
    // (a new conversation holds no duplicate, so only a CONFLICT stores nothing) and rolls it back.
    const ensured = await run(sql.ensureConversation, [
      id,
      request.conversation.type,
      request.conversation.title ?? null,
      JSON.stringify(request.conversation.metadata),
      request.restore?.createdAt ?? request.now,
      request.conversation.channel ?? null,
    ]);
    const counter = (await run(sql.lockConversation, [id])).rows[0];
    const lastSeq = Number(counter?.last_seq ?? 0);
    const byId = new Map<string, Message>();
    for (const row of (await run(sql.messagesByIds, [request.messages.map((m) => m.id)])).rows) {
      const message = fromStoredMessage(row as unknown as StoredMessageRow);
      byId.set(message.id, message);
    }
    const externalIds = externalIdsOf(request.messages);
    const byExternalId = new Map<string, Message>();
    if (externalIds.length > 0) {
      for (const row of (await run(sql.messagesByExternalIds, [id, externalIds])).rows) {
        const message = fromStoredMessage(row as unknown as StoredMessageRow);
        if (message.externalId !== undefined) byExternalId.set(message.externalId, message);
      }
    }
    const plan = planAppend(request, lastSeq, { byId, byExternalId });
    if (writesNothing(request, plan, ensured.rowCount === 0)) return plan.results;
    if (plan.inserts.length > 0) {
      const values = appendValues(ctx.fullText, request, plan.inserts, plan.inserts, lastSeq, null, plan.lastMessageAt);
      const stored = (await run(sql.appendMessages, values)).rows[0];
      if (stored === undefined || Number(stored.base) !== lastSeq) {
        throw new ChatStoreError('UNAVAILABLE', `postgres: the counter of ${id} moved while locked`);
      }
    } else if (request.participants.length > 0) {
      // A restore creating an empty conversation: only its participants (appendMessages adds them otherwise).
      await run(sql.addParticipants, [id, request.now, JSON.stringify(participantColumns(request.participants))]);
    }
    const restore = request.restore;
    if (restore !== undefined) {
      await run(sql.afterRestore, [
        id,
        plan.lastSeq,
        plan.lastMessageAt ?? null,
        restore.updatedAt,
        restore.deletedAt ?? null,
      ]);
    }
    return plan.results;
  });
}

/**
 * The values of one `appendMessages` statement: the messages to insert (seqs relative to the counter)
 * and the drafts whose ids and externalIds must not be stored yet.
 */
function appendValues(
  fullText: PgTextSearch,
  request: AppendRequest,
  checked: readonly MessageDraft[],
  inserts: Message[],
  base: number,
  expectedLastSeq: number | null,
  lastMessageAt: string | undefined,
): unknown[] {
  return [
    request.conversationId,
    request.conversation.type,
    request.conversation.title ?? null,
    JSON.stringify(request.conversation.metadata),
    request.now,
    expectedLastSeq,
    lastMessageAt ?? null,
    checked.map((message) => message.id),
    externalIdsOf(checked),
    JSON.stringify(inserts.map((message) => appendRow(message, message.seq - base, fullText))),
    JSON.stringify(participantColumns(request.participants)),
    inserts.length,
    request.conversation.channel ?? null,
  ];
}

/** A message as `appendMessages` reads it: its columns, nulls left out, and its seq relative to the counter. */
function appendRow(message: Message, relativeSeq: number, text: PgTextSearch): Record<string, unknown> {
  const { conversation_id: _conversation, seq: _seq, ...columns } = messageColumns(message);
  const row: Record<string, unknown> = { rel_seq: relativeSeq };
  for (const [name, value] of Object.entries(columns)) if (value !== null) row[name] = value;
  row.search_text = text.vectorValue(columns.search_text);
  row.word_count = text.wordCount(columns.search_text);
  row.body = messageBody(message);
  return row;
}

function externalIdsOf(drafts: readonly MessageDraft[]): string[] {
  return drafts.flatMap((draft) => (draft.externalId === undefined ? [] : [draft.externalId]));
}

/**
 * The one-trip path could not settle the call: a duplicate that raced in (unique violation), or a
 * deadlock with another writer. (A stored duplicate or a stale `expectedLastSeq` return no row.)
 */
function needsPlanUnderLock(error: unknown): boolean {
  const state = sqlState(error instanceof ChatStoreError ? error.cause : error);
  return state === '23505' || state === '40P01' || state === '40001';
}
