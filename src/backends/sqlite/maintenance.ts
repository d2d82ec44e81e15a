/** Store-wide upkeep: counts, erasure of one subject, and the stable scan of conversation ids for export. */
import { stat } from 'node:fs/promises';
import type { Backend, ErasureCounts } from '../../backend.js';
import type { Stats } from '../../model.js';
import { channelCounts } from '../stats.js';
import type { SqliteContext } from './context.js';
import { noteConversation } from './conversations.js';
import { erasing } from './erasure.js';
import type { SqliteStatements } from './prepared.js';
import type { ErasedText } from './residue.js';
import type { StatsRow } from './statements.js';

export function maintenanceOperations(
  ctx: SqliteContext,
): Pick<Backend, 'stats' | 'eraseSubject' | 'conversationIds' | 'storageBytes'> {
  const { db, sql, read } = ctx;
  return {
    /** The database file plus its WAL and shared-memory files; undefined in memory. */
    async storageBytes(): Promise<number | undefined> {
      if (db.memory) return undefined;
      const sizes = await Promise.all(
        [db.name, `${db.name}-wal`, `${db.name}-shm`].map((file) =>
          stat(file).then(
            (found) => found.size,
            () => 0,
          ),
        ),
      );
      return sizes.reduce((sum, size) => sum + size, 0);
    },

    async stats(conversationId?: string): Promise<Stats> {
      return read(() => {
        const row = (
          conversationId === undefined ? sql.statsOfAll.get() : sql.statsOfOne.get({ id: conversationId })
        ) as StatsRow;
        const channels =
          conversationId === undefined
            ? sql.channelStatsOfAll.all()
            : sql.channelStatsOfOne.all({ id: conversationId });
        return {
          total: row.total,
          incoming: row.incoming,
          outgoing: row.outgoing,
          withMedia: row.withMedia,
          commands: row.commands,
          adminCommands: row.adminCommands,
          failed: row.failed,
          deleted: row.deleted,
          byRole: { user: row.user, assistant: row.assistant, system: row.system, tool: row.tool },
          conversations: row.conversations,
          byChannel: channelCounts(channels),
        };
      });
    },

    /** Resolves once none of the erased rows' bytes is left in the file or its WAL (see `erasure.ts`). */
    async eraseSubject(subjectId: string): Promise<ErasureCounts> {
      return erasing(ctx, (erased) => eraseSubjectNow(sql, subjectId, erased));
    },

    async conversationIds(after: string | undefined, limit: number): Promise<string[]> {
      return read(() => sql.conversationIds.all(after ?? '', limit).map((row) => row.id));
    },
  };
}

function eraseSubjectNow(sql: SqliteStatements, subjectId: string, erased: ErasedText): ErasureCounts {
  erased.addText(subjectId);
  for (const entry of sql.participantEntries.all(subjectId)) erased.addText(entry.name);
  for (const message of sql.bodiesOfSubject.iterate({ subjectId })) erased.addMessage(message.body);
  noteConversation(sql, subjectId, erased);
  // participantEntriesRemoved counts the subject's own entries in every conversation, including a
  // conversation deleted below because it is named after the subject; the other members of that
  // conversation are not the subject's entries and are not counted.
  const participantEntriesRemoved = sql.deleteParticipantEverywhere.run(subjectId).changes;
  let messagesDeleted = 0;
  const conversationsDeleted: string[] = [];
  if (sql.conversation.get(subjectId) !== undefined) {
    messagesDeleted += sql.deleteMessagesOf.run(subjectId).changes;
    sql.deleteParticipantsOf.run(subjectId);
    sql.deleteConversation.run(subjectId);
    conversationsDeleted.push(subjectId);
  }
  sql.uncountMessagesOfSubject.run({ subjectId });
  messagesDeleted += sql.deleteMessagesOfSubject.run({ subjectId }).changes;
  return { messagesDeleted, conversationsDeleted, participantEntriesRemoved };
}
