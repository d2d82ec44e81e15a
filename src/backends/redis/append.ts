/**
 * `append`: one APPEND script per call does the rules of `plan.ts` atomically in the conversation's
 * slot. On one server it also keeps the global indexes; on a cluster they are kept around it
 * (claims and pre-adds before, the outbox and the background upkeep after: see `global-index.ts`).
 */
import type { AppendRequest, Backend } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { AppendResult, Message } from '../../model.js';
import { claim } from './claims.js';
import type { RedisContext } from './context.js';
import { index, indexOutbox, scheduleUpkeep, unindexAll } from './global-index.js';
import { decodeMessage, encodeMessage, SEPARATOR } from './keys.js';
import { APPEND } from './scripts.js';

/** Per draft: its new seq; or, for a duplicate, `[seq, value]` of the stored message or `[seq]` of one inserted earlier in this call. */
type AppendOutcome = number | [number, string] | [number];

type AppendReply = ['CONFLICT', string] | ['OK', number, AppendOutcome[], string[], string[], string | null];

export function appendOperations(ctx: RedisContext): Pick<Backend, 'append'> {
  return {
    append: (request) => ctx.guard(() => appendNow(ctx, request)),
  };
}

async function appendNow(ctx: RedisContext, request: AppendRequest): Promise<AppendResult[]> {
  const { cluster, keys, background } = ctx;
  const conversationId = request.conversationId;
  const values = request.messages.map((message) => encodeMessage(message));
  const generations = new Map<string, number>();
  const preadded = cluster ? await prepareClusterAppend(ctx, request, generations) : [];
  const args: (string | number)[] = [
    cluster ? 'cluster' : 'single',
    conversationId,
    request.now,
    request.expectedLastSeq ?? '',
    request.conversation.type,
    request.conversation.title === undefined ? '' : `+${request.conversation.title}`,
    JSON.stringify(request.conversation.metadata),
    keys.prefix,
    request.restore === undefined
      ? ''
      : JSON.stringify({ ...request.restore, seqs: request.messages.map((message) => message.seq ?? 0) }),
    request.conversation.channel === undefined ? '' : `+${request.conversation.channel}`,
    request.participants.length,
    ...request.participants.flatMap((p) => [p.id, JSON.stringify(p)]),
    preadded.length,
    ...preadded,
    request.messages.length,
    ...request.messages.flatMap((message, i) => [generations.get(message.id) ?? 0, values[i] as string]),
  ];
  let reply: AppendReply;
  try {
    reply = (await ctx.inConversation(APPEND, conversationId, args)) as AppendReply;
  } catch (error) {
    if (preadded.length > 0) background(() => unindexAll(ctx, conversationId, preadded));
    throw error;
  }
  if (reply[0] === 'CONFLICT') {
    if (preadded.length > 0) background(() => unindexAll(ctx, conversationId, preadded));
    throw new ChatStoreError('CONFLICT', reply[1]);
  }
  const [, , outcomes, readd, stale, oldActivity] = reply;
  const inserted = new Map<number, Message>();
  const results = outcomes.map((outcome, i): AppendResult => {
    if (typeof outcome === 'number') {
      const message = decodeMessage(conversationId, outcome, values[i] as string);
      inserted.set(outcome, message);
      return { message, duplicate: false };
    }
    const [seq, value] = outcome;
    const message =
      value === undefined ? (inserted.get(seq) as Message) : decodeMessage(conversationId, Number(seq), value);
    return { message, duplicate: true };
  });
  if (cluster) {
    await indexOutbox(ctx, conversationId, readd);
    const newest = [...inserted.values()].at(-1);
    const newActivity = newest === undefined ? undefined : (request.restore?.lastMessageAt ?? newest.createdAt);
    const removals = [...stale];
    if (oldActivity && newActivity !== undefined && oldActivity !== newActivity) {
      removals.push(`a${SEPARATOR}${oldActivity}`);
    }
    // Pre-added entries are added once more after the commit: a removal that ran its ZREM after
    // the pre-add and checked the conversation before the commit took them away.
    scheduleUpkeep(
      ctx,
      conversationId,
      preadded.filter((mark) => !stale.includes(mark)),
      removals,
    );
  }
  return results;
}

/**
 * Before the script of a cluster append, in parallel: the claim of every new message id (their
 * generations go into `generations`) and the pre-add of the entries that can be predicted (the new
 * activity entry, the externalIds). Returns the pre-added marks; on failure they are removed again.
 */
async function prepareClusterAppend(
  ctx: RedisContext,
  request: AppendRequest,
  generations: Map<string, number>,
): Promise<string[]> {
  const conversationId = request.conversationId;
  // The activity the conversation will have (lastMessageAt): a restore gives it, an append's is its last message's.
  const activity = request.restore?.lastMessageAt ?? request.messages.at(-1)?.createdAt;
  const externalIds = new Set(request.messages.flatMap((m) => (m.externalId === undefined ? [] : [m.externalId])));
  const preadded = [
    ...(activity === undefined ? [] : [`a${SEPARATOR}${activity}`]),
    ...[...externalIds].map((externalId) => `x${SEPARATOR}${externalId}`),
  ];
  const ids = [...new Set(request.messages.map((m) => m.id))];
  const claims = Promise.all(ids.map(async (id) => generations.set(id, await claim(ctx, conversationId, id))));
  const [claimed, placed] = await Promise.allSettled([claims, index(ctx, conversationId, preadded)]);
  const failure = claimed.status === 'rejected' ? claimed : placed.status === 'rejected' ? placed : undefined;
  if (failure !== undefined) {
    ctx.background(() => unindexAll(ctx, conversationId, preadded));
    throw failure.reason;
  }
  return preadded;
}
