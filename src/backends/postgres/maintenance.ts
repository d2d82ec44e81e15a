/**
 * Whole-store work: counts (`stats`), erasure of a data subject, the ordered scan of conversation
 * ids for export, compaction of the whole store (`compaction.ts`).
 */
import type { Backend, ErasureCounts, RemovalOptions } from '../../backend.js';
import type { Stats } from '../../model.js';
import { compactAfter } from '../compaction.js';
import { toStats } from '../sql/rows.js';
import type { ChannelStatsRow } from '../stats.js';
import { compactTables } from './compaction.js';
import type { PgContext } from './context.js';
import { toChatStoreError } from './errors.js';
import type { PgQueryResult } from './types.js';

export function maintenanceOperations(
  ctx: PgContext,
): Pick<Backend, 'stats' | 'eraseSubject' | 'conversationIds' | 'compact'> {
  const { sql } = ctx;
  return {
    async stats(conversationId?: string): Promise<Stats> {
      const [[row], channels] = await Promise.all([
        conversationId === undefined
          ? ctx.rows<Record<string, string>>(sql.statsOfAll)
          : ctx.rows<Record<string, string>>(sql.statsOfOne, [conversationId]),
        conversationId === undefined
          ? ctx.rows<ChannelStatsRow>(sql.channelStatsOfAll)
          : ctx.rows<ChannelStatsRow>(sql.channelStatsOfOne, [conversationId]),
      ]);
      return toStats(row, channels);
    },

    async eraseSubject(subjectId: string, _now: string, options?: RemovalOptions): Promise<ErasureCounts> {
      const parts = new Set<string>();
      const partsOf = (result: PgQueryResult) => {
        for (const part of (result.rows[0]?.parts as string[] | null) ?? []) parts.add(part);
        return Number(result.rows[0]?.n ?? 0);
      };
      let counts: ErasureCounts;
      try {
        counts = await ctx.transaction(async (run) => {
          // The subject's own entries in every conversation, the one named after them included.
          const participantEntriesRemoved = (await run(sql.deleteParticipantEverywhere, [subjectId])).rowCount ?? 0;
          let messagesDeleted = 0;
          const conversationsDeleted: string[] = [];
          if ((await run(sql.lockConversation, [subjectId])).rows.length > 0) {
            messagesDeleted += partsOf(await run(sql.removeConversation, [subjectId]));
            conversationsDeleted.push(subjectId);
          }
          messagesDeleted += partsOf(await run(sql.removeMessagesOfSubject, [subjectId]));
          return { messagesDeleted, conversationsDeleted, participantEntriesRemoved };
        });
      } catch (error) {
        throw toChatStoreError(error);
      }
      if (options?.compact !== true) return counts;
      return compactAfter(counts, () => compactTables(ctx, [...parts]));
    },

    compact: () => compactTables(ctx, 'all'),

    async conversationIds(after: string | undefined, limit: number): Promise<string[]> {
      return (await ctx.rows<{ conversation_id: string }>(sql.conversationIds, [after ?? '', limit])).map(
        (row) => row.conversation_id,
      );
    },
  };
}
