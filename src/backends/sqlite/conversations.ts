/**
 * Conversations and their participants: read one, list by activity, create, patch, add and remove
 * participants, soft and hard delete.
 */

import type Database from 'better-sqlite3';
import type { ConversationDeletion, ConversationQuery, CreateConversationRequest } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, ConversationPatch, Participant } from '../../model.js';
import { atVersion } from '../conversation-version.js';
import type { ConversationOperations } from '../operations.js';
import type { SqliteContext } from './context.js';
import { erasing, erasingLater } from './erasure.js';
import type { SqliteStatements } from './prepared.js';
import type { ErasedText } from './residue.js';
import { type ConversationRow, type ParticipantRow, toConversation } from './rows.js';
import { type ConversationListShape, conversationListSql, type ListParams } from './statements.js';

/** A conversation with its participants, read inside the caller's transaction or snapshot. */
export function loadConversation(sql: SqliteStatements, id: string): Conversation | undefined {
  const row = sql.conversation.get(id);
  return row === undefined ? undefined : toConversation(row, sql.participants.all(id));
}

/** Notes in `erased` every string of a conversation, its participants and its messages, before a hard delete. */
export function noteConversation(sql: SqliteStatements, id: string, erased: ErasedText): void {
  const row = sql.conversation.get(id);
  if (row === undefined) return;
  erased.addText(row.id);
  erased.addText(row.type);
  erased.addText(row.title);
  erased.addText(row.channel);
  erased.addJson(JSON.parse(row.metadata), 1);
  for (const participant of sql.participants.all(id)) {
    erased.addText(participant.participant_id);
    erased.addText(participant.name);
  }
  for (const message of sql.bodiesOfConversation.iterate(id)) erased.addMessage(message.body);
}

/** Adds the participants not present yet; existing entries are left as they are. */
export function addParticipantRows(sql: SqliteStatements, conversationId: string, participants: Participant[]): void {
  for (const participant of participants) {
    sql.insertParticipant.run({
      conversationId,
      id: participant.id,
      kind: participant.kind,
      name: participant.name ?? null,
      joinedAt: participant.joinedAt,
    });
  }
}

export function conversationOperations(ctx: SqliteContext): ConversationOperations {
  const { sql, snapshot, write } = ctx;
  const listing = listingStatements(ctx.db);
  return {
    async getConversation(id: string): Promise<Conversation | undefined> {
      return snapshot(() => loadConversation(sql, id));
    },

    async listConversations(query: ConversationQuery): Promise<Conversation[]> {
      return snapshot(() => {
        const rows = listing({
          participant: query.participantId !== undefined,
          type: query.type !== undefined,
          channel: query.channel !== undefined,
          after: query.after !== undefined,
          includeDeleted: query.includeDeleted,
        }).all({
          participantId: query.participantId ?? null,
          type: query.type ?? null,
          channel: query.channel ?? null,
          afterActivityAt: query.after?.activityAt ?? null,
          afterId: query.after?.id ?? null,
          limit: query.limit,
        });
        const participants = new Map<string, ParticipantRow[]>();
        for (const row of sql.participantsOfMany.all(JSON.stringify(rows.map((conversation) => conversation.id)))) {
          const list = participants.get(row.conversation_id);
          if (list === undefined) participants.set(row.conversation_id, [row]);
          else list.push(row);
        }
        return rows.map((row) => toConversation(row, participants.get(row.id) ?? []));
      });
    },

    async createConversation(request: CreateConversationRequest): Promise<Conversation> {
      return write(() => {
        const inserted = sql.insertConversation.run({
          id: request.id,
          type: request.type,
          title: request.title ?? null,
          channel: request.channel ?? null,
          metadata: JSON.stringify(request.metadata),
          now: request.now,
        }).changes;
        if (inserted === 0) throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
        addParticipantRows(sql, request.id, request.participants);
        return loadConversation(sql, request.id) as Conversation;
      });
    },

    async updateConversation(id: string, patch: ConversationPatch, now: string): Promise<Conversation | undefined> {
      return write(() => {
        const updated = sql.updateConversation.run({
          id,
          type: patch.type ?? null,
          setTitle: patch.title === undefined ? 0 : 1,
          title: patch.title ?? null,
          setChannel: patch.channel === undefined ? 0 : 1,
          channel: patch.channel ?? null,
          // json_patch is RFC 7396, applied in the engine: concurrent patches never overwrite each other.
          patch: patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
          now,
        }).changes;
        return updated === 0 ? undefined : loadConversation(sql, id);
      });
    },

    async addParticipants(conversationId: string, participants: Participant[], now: string) {
      return write(() => {
        if (sql.touchConversation.run({ id: conversationId, now }).changes === 0) return undefined;
        addParticipantRows(sql, conversationId, participants);
        return loadConversation(sql, conversationId);
      });
    },

    async removeParticipant(conversationId: string, participantId: string, now: string) {
      return write(() => {
        if (sql.touchConversation.run({ id: conversationId, now }).changes === 0) return undefined;
        sql.removeParticipant.run(conversationId, participantId);
        return loadConversation(sql, conversationId);
      });
    },

    /** A hard delete resolves once none of its bytes is left in the file or its WAL (see `erasure.ts`). */
    async deleteConversation(id: string, options: ConversationDeletion): Promise<boolean> {
      if (options.hard) {
        // Moved to the archive, not erased: the scrub waits for the end of the run (`finishRemovals`).
        return (options.moved === true ? erasingLater : erasing)(ctx, (erased) => {
          const found = loadConversation(sql, id);
          if (found === undefined || !atVersion(found, options.ifUnchanged)) return false;
          noteConversation(sql, id, erased);
          sql.deleteMessagesOf.run(id);
          sql.deleteParticipantsOf.run(id);
          sql.deleteConversation.run(id);
          return true;
        });
      }
      return write(() => {
        if (sql.conversation.get(id) === undefined) return false;
        sql.softDeleteConversation.run({ id, now: options.now });
        sql.softDeleteMessagesOf.run({ id, now: options.now });
        return true;
      });
    },
  };
}

/** The listing statement of each shape, prepared on first use and kept for the connection's life. */
function listingStatements(
  db: Database.Database,
): (shape: ConversationListShape) => Database.Statement<[ListParams], ConversationRow> {
  const listings = new Map<string, Database.Statement<[ListParams], ConversationRow>>();
  return (shape) => {
    const text = conversationListSql(shape);
    let statement = listings.get(text);
    if (statement === undefined) {
      statement = db.prepare<ListParams, ConversationRow>(text);
      listings.set(text, statement);
    }
    return statement;
  };
}
