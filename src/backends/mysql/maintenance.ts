/**
 * Whole-store work: counts (`stats`), erasure of one subject everywhere (`eraseSubject`), the
 * stable scan of conversation ids that export walks (`conversationIds`) and compaction of the whole
 * store (`compaction.ts`).
 */
import type { Backend, ErasureCounts, RemovalOptions } from '../../backend.js';
import type { Stats } from '../../model.js';
import { compactAfter } from '../compaction.js';
import { toStats } from '../sql/rows.js';
import type { ChannelStatsRow } from '../stats.js';
import { compactTables } from './compaction.js';
import type { MysqlContext, ResultHeader } from './context.js';

type MaintenanceOperations = Pick<Backend, 'stats' | 'eraseSubject' | 'conversationIds' | 'compact'>;

export function maintenanceOperations(ctx: MysqlContext): MaintenanceOperations {
  const { sql, rows } = ctx;
  return {
    async stats(conversationId?: string): Promise<Stats> {
      const [[row], channels] = await Promise.all([
        conversationId === undefined
          ? rows<Record<string, string | number | null>>(sql.statsOfAll)
          : rows<Record<string, string | number | null>>(sql.statsOfOne, [conversationId, conversationId]),
        conversationId === undefined
          ? rows<ChannelStatsRow>(sql.channelStatsOfAll)
          : rows<ChannelStatsRow>(sql.channelStatsOfOne, [conversationId]),
      ]);
      return toStats(row, channels);
    },

    async eraseSubject(subjectId: string, _now: string, options?: RemovalOptions): Promise<ErasureCounts> {
      const counts = await ctx.transaction(async (run) => {
        // The subject's own entries in every conversation, the one named after them included.
        const participantEntriesRemoved = ((await run(sql.deleteParticipantEverywhere, [subjectId])) as ResultHeader)
          .affectedRows;
        let messagesDeleted = 0;
        const conversationsDeleted: string[] = [];
        if (await ctx.lock(run, subjectId)) {
          messagesDeleted += ((await run(sql.deleteMessagesOf, [subjectId])) as ResultHeader).affectedRows;
          await run(sql.deleteParticipantsOf, [subjectId]);
          await run(sql.deleteConversation, [subjectId]);
          conversationsDeleted.push(subjectId);
        }
        // Locked (gaps included) so that what is counted is exactly what is deleted.
        const owners = (await run(sql.lockMessagesOfSubject, [subjectId, subjectId])) as { conversation_id: string }[];
        const perConversation = new Map<string, number>();
        for (const { conversation_id: id } of owners) perConversation.set(id, (perConversation.get(id) ?? 0) + 1);
        messagesDeleted += ((await run(sql.deleteMessagesOfSubject, [subjectId, subjectId])) as ResultHeader)
          .affectedRows;
        for (const [id, n] of perConversation) await run(sql.uncount, [n, id]);
        return { messagesDeleted, conversationsDeleted, participantEntriesRemoved };
      });
      return options?.compact === true ? compactAfter(counts, () => compactTables(ctx)) : counts;
    },

    compact: () => compactTables(ctx),

    async conversationIds(after: string | undefined, limit: number): Promise<string[]> {
      return (await rows<{ conversation_id: string }>(sql.conversationIds, [after ?? '', limit])).map(
        (row) => row.conversation_id,
      );
    },
  };
}
