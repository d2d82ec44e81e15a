/**
 * Store-wide upkeep: counts (from the counters the scripts keep in each conversation hash),
 * erasure of one subject (through its participant index), the stable scan of conversation ids
 * for export, and the rewrite of the servers' persistence files (`compaction.ts`).
 */

import type { Backend, ErasureCounts } from '../../backend.js';
import type { Stats } from '../../model.js';
import { countChannel, emptyStats } from '../stats.js';
import { releaseClaims } from './claims.js';
import { compactingAfter, compactServers } from './compaction.js';
import { inBatches, PAGE, type RedisContext } from './context.js';
import { dropConversation } from './conversations.js';
import { unindex, unindexAll } from './global-index.js';
import { SEPARATOR } from './keys.js';
import { ERASE_IN_CONVERSATION, STATS_FIELDS } from './scripts.js';

export function maintenanceOperations(
  ctx: RedisContext,
): Pick<Backend, 'stats' | 'eraseSubject' | 'conversationIds' | 'compact'> {
  const { guard } = ctx;
  return {
    stats: (conversationId) => guard(() => statsNow(ctx, conversationId)),

    eraseSubject: (subjectId: string, _now, options) =>
      compactingAfter(
        ctx,
        options,
        guard(() => eraseSubjectNow(ctx, subjectId)),
      ),

    compact: () => guard(() => compactServers(ctx)),

    conversationIds: (after, limit) => guard(() => conversationIdsNow(ctx, after, limit)),
  };
}

async function statsNow({ client, keys }: RedisContext, conversationId?: string): Promise<Stats> {
  const stats = emptyStats();
  const add = (fields: (string | null)[]) => {
    const [createdAt, deletedAt, channel, ...counters] = fields;
    if (createdAt === null || createdAt === undefined) return;
    const [messageCount = 0, deleted = 0, incoming = 0, user = 0, assistant = 0, system = 0, ...flags] = counters.map(
      (counter) => Number(counter ?? 0),
    );
    // The scripts count live messages by direction and role; totals follow from messageCount.
    const total = messageCount - deleted;
    stats.total += total;
    stats.incoming += incoming;
    stats.outgoing += total - incoming;
    stats.byRole.user += user;
    stats.byRole.assistant += assistant;
    stats.byRole.system += system;
    stats.byRole.tool += total - user - assistant - system;
    stats.withMedia += flags[0] ?? 0;
    stats.commands += flags[1] ?? 0;
    stats.adminCommands += flags[2] ?? 0;
    stats.failed += flags[3] ?? 0;
    stats.deleted += deleted;
    if (deletedAt === null) stats.conversations += 1;
    countChannel(
      stats,
      {
        ...(channel === null || channel === undefined ? {} : { channel }),
        ...(deletedAt === null || deletedAt === undefined ? {} : { deletedAt }),
      },
      total,
    );
  };
  const countersOf = (id: string) =>
    client.call('HMGET', keys.conversation(id).conv, ...STATS_FIELDS) as Promise<(string | null)[]>;
  if (conversationId !== undefined) {
    add(await countersOf(conversationId));
    return stats;
  }
  let after: string | undefined;
  for (;;) {
    const ids = (await client.call(
      'ZRANGE',
      keys.conversations,
      after === undefined ? '-' : `(${after}`,
      '+',
      'BYLEX',
      'LIMIT',
      0,
      PAGE,
    )) as string[];
    for (const fields of await Promise.all(ids.map(countersOf))) add(fields);
    if (ids.length < PAGE) return stats;
    after = ids[ids.length - 1];
  }
}

async function eraseSubjectNow(ctx: RedisContext, subjectId: string): Promise<ErasureCounts> {
  const counts: ErasureCounts = { messagesDeleted: 0, conversationsDeleted: [], participantEntriesRemoved: 0 };
  const named = await dropConversation(ctx, subjectId);
  if (named !== undefined) {
    counts.messagesDeleted += named.messageCount;
    if (named.participants.includes(subjectId)) counts.participantEntriesRemoved += 1;
    counts.conversationsDeleted.push(subjectId);
  }
  const conversationIds = (await ctx.client.call('ZRANGE', ctx.keys.participant(subjectId), 0, -1)) as string[];
  await inBatches(conversationIds, async (conversationId) => {
    const reply = (await ctx.inConversation(ERASE_IN_CONVERSATION, conversationId, [subjectId])) as
      | [number, string[], string[], string[]]
      | null;
    if (reply !== null) {
      const [participant, ids, externalIds, people] = reply;
      counts.messagesDeleted += ids.length;
      counts.participantEntriesRemoved += participant;
      await releaseClaims(ctx, conversationId, ids);
      await unindexAll(ctx, conversationId, [
        ...externalIds.map((externalId) => `x${SEPARATOR}${externalId}`),
        ...people.filter((pid) => pid !== subjectId).map((pid) => `p${SEPARATOR}${pid}`),
      ]);
    }
    await unindex(ctx, conversationId, `p${SEPARATOR}${subjectId}`);
  });
  return counts;
}

/** Conversation ids in byte order strictly after `after`, each checked to exist. */
async function conversationIdsNow(
  { client, keys }: RedisContext,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  const found: string[] = [];
  let start = after === undefined ? '-' : `(${after}`;
  for (;;) {
    const ids = (await client.call('ZRANGE', keys.conversations, start, '+', 'BYLEX', 'LIMIT', 0, limit)) as string[];
    const exists = await Promise.all(ids.map((id) => client.call('EXISTS', keys.conversation(id).conv)));
    for (const [i, id] of ids.entries()) {
      if (exists[i] === 1) found.push(id);
      if (found.length === limit) return found;
    }
    if (ids.length < limit) return found;
    start = `(${ids[ids.length - 1]}`;
  }
}
