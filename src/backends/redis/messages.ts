/**
 * Messages after they are stored: by id or externalId (through the global lookups, verified
 * against the conversation), pages of one conversation, updates, removal. Search is unsupported.
 */
import type { Backend, RangeQuery } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { Message } from '../../model.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { ownerOf, releaseClaims } from './claims.js';
import { compactingAfter } from './compaction.js';
import type { RedisContext } from './context.js';
import { unindex, unindexAll } from './global-index.js';
import { decodeMessage, encodeMessage, SEPARATOR } from './keys.js';
import { LOOKUP, RANGE, REMOVE_MESSAGE, UPDATE_MESSAGE } from './scripts.js';

const SEARCH_UNSUPPORTED =
  'search needs a full-text index; Redis 7 without RediSearch has none: use the sqlite or mysql backend for search';

export function messageOperations(
  ctx: RedisContext,
): Pick<Backend, 'getMessage' | 'getMessageByExternalId' | 'range' | 'updateMessage' | 'removeMessage' | 'search'> {
  const { client, keys, guard, background } = ctx;
  return {
    getMessage: (id) =>
      guard(async () => {
        const conversationId = await ownerOf(ctx, id);
        return conversationId === undefined ? undefined : lookup(ctx, conversationId, 'ids', id);
      }),

    getMessageByExternalId: (externalId, conversationId) =>
      guard(async () => {
        if (conversationId !== undefined) return lookup(ctx, conversationId, 'ext', externalId);
        const candidates = (await client.call('ZRANGE', keys.external(externalId), 0, -1)) as string[];
        for (const candidate of candidates) {
          const message = await lookup(ctx, candidate, 'ext', externalId);
          if (message !== undefined) return message;
          background(() => unindex(ctx, candidate, `x${SEPARATOR}${externalId}`));
        }
        return undefined;
      }),

    range: (conversationId: string, query: RangeQuery) => guard(() => rangeNow(ctx, conversationId, query)),

    updateMessage: (id, change) => guard(() => updateMessageNow(ctx, id, change)),

    removeMessage: (id, options) =>
      compactingAfter(
        ctx,
        options,
        guard(async () => {
          const conversationId = await ownerOf(ctx, id);
          if (conversationId === undefined) return false;
          const removed = (await ctx.inConversation(REMOVE_MESSAGE, conversationId, [id])) as
            | [string, string, string, string]
            | null;
          if (removed === null) return false;
          const [, externalId, senderId, recipientId] = removed;
          await releaseClaims(ctx, conversationId, [id]);
          await unindexAll(ctx, conversationId, [
            ...(externalId === '' ? [] : [`x${SEPARATOR}${externalId}`]),
            ...[senderId, recipientId].filter((pid) => pid !== '').map((pid) => `p${SEPARATOR}${pid}`),
          ]);
          return true;
        }),
      ),

    search: () => guard(() => Promise.reject(new ChatStoreError('UNSUPPORTED', SEARCH_UNSUPPORTED))),
  };
}

async function lookup(
  ctx: RedisContext,
  conversationId: string,
  map: 'ids' | 'ext',
  key: string,
): Promise<Message | undefined> {
  const found = await find(ctx, conversationId, map, key);
  return found === null ? undefined : decodeMessage(conversationId, Number(found[0]), found[1]);
}

async function find({ keys, run }: RedisContext, conversationId: string, map: 'ids' | 'ext', key: string) {
  const conversationKeys = keys.conversation(conversationId);
  return (await run(LOOKUP, [conversationKeys[map], conversationKeys.live, conversationKeys.dead], [key])) as
    | [string, string]
    | null;
}

/**
 * A page of one conversation. Live messages without a time filter, the hot path of recent, list
 * and context, are one ZRANGE on `live` (score = seq, member = the message): O(log n + page).
 */
async function rangeNow(
  { client, keys, run }: RedisContext,
  conversationId: string,
  query: RangeQuery,
): Promise<Message[]> {
  const conversationKeys = keys.conversation(conversationId);
  const lo = `(${query.afterSeq ?? 0}`;
  const hi = query.beforeSeq === undefined ? '+inf' : `(${query.beforeSeq}`;
  const direct = !query.includeDeleted && query.from === undefined && query.to === undefined;
  const reply = direct
    ? ((await (query.order === 'desc'
        ? client.call('ZRANGE', conversationKeys.live, hi, lo, 'BYSCORE', 'REV', 'LIMIT', 0, query.limit, 'WITHSCORES')
        : client.call(
            'ZRANGE',
            conversationKeys.live,
            lo,
            hi,
            'BYSCORE',
            'LIMIT',
            0,
            query.limit,
            'WITHSCORES',
          ))) as string[])
    : ((await run(
        RANGE,
        [conversationKeys.live, conversationKeys.dead],
        [
          query.afterSeq ?? 0,
          query.beforeSeq ?? '',
          query.order === 'desc' ? '1' : '0',
          query.limit,
          query.from ?? '',
          query.to ?? '',
          query.includeDeleted ? '1' : '0',
        ],
      )) as string[]);
  const messages: Message[] = [];
  if (direct) {
    // ZRANGE … WITHSCORES: value, score, … over RESP2; [value, score] pairs over RESP3.
    for (const [value, score] of scoredPairs(reply)) messages.push(decodeMessage(conversationId, Number(score), value));
    return messages;
  }
  for (let i = 0; i < reply.length; i += 2) {
    messages.push(decodeMessage(conversationId, Number(reply[i]), reply[i + 1] as string));
  }
  return messages;
}

/** `[member, score]` pairs of a ZRANGE … WITHSCORES reply, whether the client speaks RESP2 (flat) or RESP3 (pairs). */
function scoredPairs(reply: unknown[]): [string, string][] {
  if (reply.length > 0 && Array.isArray(reply[0])) return reply as [string, string][];
  const pairs: [string, string][] = [];
  for (let i = 0; i < reply.length; i += 2) pairs.push([reply[i] as string, String(reply[i + 1])]);
  return pairs;
}

async function updateMessageNow(
  ctx: RedisContext,
  id: string,
  change: (current: Message) => Message | undefined,
): Promise<Message | undefined> {
  const conversationId = await ownerOf(ctx, id);
  if (conversationId === undefined) return undefined;
  const found = await find(ctx, conversationId, 'ids', id);
  if (found === null) return undefined;
  const seq = Number(found[0]);
  let value = found[1];
  return untilUnchanged(`message ${id}`, async () => {
    const current = decodeMessage(conversationId, seq, value);
    const next = change(decodeMessage(conversationId, seq, value));
    if (next === undefined) return current;
    const updated = encodeMessage({ ...next, id: current.id, conversationId, seq });
    const reply = (await ctx.inConversation(UPDATE_MESSAGE, conversationId, [seq, value, updated])) as
      | ['OK']
      | ['RETRY', string]
      | null;
    if (reply === null) return undefined;
    if (reply[0] === 'OK') return decodeMessage(conversationId, seq, updated);
    value = reply[1];
    return CHANGED;
  });
}
