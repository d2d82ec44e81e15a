/**
 * Conversations and their participants: read, list (one prepared statement per listing shape),
 * create, patch, add and remove participants, soft and hard delete.
 */
import type { ConversationDeletion, ConversationQuery, CreateConversationRequest } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, ConversationPatch, Participant } from '../../model.js';
import { compactAfter } from '../compaction.js';
import { atVersion } from '../conversation-version.js';
import type { ConversationOperations } from '../operations.js';
import { type ConversationRow, participantColumns, toConversation } from '../sql/rows.js';
import type { ConversationListShape } from '../sql/shapes.js';
import { compactTables } from './compaction.js';
import type { PgContext } from './context.js';
import { toChatStoreError } from './errors.js';

export function conversationOperations(ctx: PgContext): ConversationOperations {
  const { sql } = ctx;

  const loadConversation = async (id: string): Promise<Conversation | undefined> => {
    const [row] = await ctx.rows<ConversationRow>(sql.conversation, [id]);
    return row === undefined ? undefined : toConversation(row);
  };

  return {
    getConversation: loadConversation,

    async listConversations(listing: ConversationQuery): Promise<Conversation[]> {
      const listShape: ConversationListShape = {
        participant: listing.participantId !== undefined,
        type: listing.type !== undefined,
        channel: listing.channel !== undefined,
        after: listing.after !== undefined,
        includeDeleted: listing.includeDeleted,
      };
      const { text, params } = ctx.shape(`list:${JSON.stringify(listShape)}`, () => sql.listConversations(listShape));
      const values: Record<string, unknown> = {
        participantId: listing.participantId,
        type: listing.type,
        channel: listing.channel,
        afterActivityAt: listing.after?.activityAt,
        afterId: listing.after?.id,
        limit: listing.limit,
      };
      return (
        await ctx.rows<ConversationRow>(
          text,
          params.map((name) => values[name]),
        )
      ).map(toConversation);
    },

    async createConversation(request: CreateConversationRequest): Promise<Conversation> {
      const [row] = await ctx.rows<{ created: number }>(sql.createConversation, [
        request.id,
        request.type,
        request.title ?? null,
        JSON.stringify(request.metadata),
        request.now,
        JSON.stringify(participantColumns(request.participants)),
        request.channel ?? null,
      ]);
      if ((row?.created ?? 0) === 0) throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
      return (await loadConversation(request.id)) as Conversation;
    },

    async updateConversation(id: string, patch: ConversationPatch, now: string): Promise<Conversation | undefined> {
      const [row] = await ctx.rows<ConversationRow>(sql.updateConversation, [
        id,
        patch.type ?? null,
        patch.title !== undefined,
        patch.title ?? null,
        patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
        now,
        patch.channel !== undefined,
        patch.channel ?? null,
      ]);
      return row === undefined ? undefined : toConversation(row);
    },

    async addParticipants(conversationId: string, participants: Participant[], now: string) {
      const [row] = await ctx.rows<{ found: number }>(sql.addParticipants, [
        conversationId,
        now,
        JSON.stringify(participantColumns(participants)),
      ]);
      return (row?.found ?? 0) === 0 ? undefined : loadConversation(conversationId);
    },

    async removeParticipant(conversationId: string, participantId: string, now: string) {
      const [row] = await ctx.rows<{ found: number }>(sql.removeParticipant, [conversationId, now, participantId]);
      return (row?.found ?? 0) === 0 ? undefined : loadConversation(conversationId);
    },

    async deleteConversation(id: string, options: ConversationDeletion): Promise<boolean> {
      let parts: string[] = [];
      let found: boolean;
      try {
        found = await ctx.transaction(async (run) => {
          // Locked first: an append in flight finishes before, and none starts until the delete commits.
          if ((await run(sql.lockConversation, [id])).rows.length === 0) return false;
          if (options.hard && options.ifUnchanged !== undefined) {
            const [row] = (await run(sql.conversation, [id])).rows as unknown as ConversationRow[];
            if (!atVersion(toConversation(row as ConversationRow), options.ifUnchanged)) return false;
          }
          if (options.hard) parts = ((await run(sql.removeConversation, [id])).rows[0]?.parts as string[] | null) ?? [];
          else await run(sql.softDeleteConversation, [id, options.now]);
          return true;
        });
      } catch (error) {
        throw toChatStoreError(error);
      }
      if (!options.hard || options.compact !== true) return found;
      return compactAfter(found, () => compactTables(ctx, parts));
    },
  };
}
