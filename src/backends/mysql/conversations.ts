/**
 * Conversations: read one or a page of them, create, update (metadata merged by the engine), add and
 * remove participants, delete (soft or hard). A conversation is read with its participants.
 */
import type { ConversationDeletion, ConversationQuery, CreateConversationRequest } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, ConversationPatch, JsonObject, JsonValue, Participant } from '../../model.js';
import { compactAfter } from '../compaction.js';
import { atVersion } from '../conversation-version.js';
import type { ConversationOperations } from '../operations.js';
import { type ConversationRow, type ParticipantTuple, toConversation } from '../sql/rows.js';
import type { ConversationListShape } from '../sql/shapes.js';
import { compactTables } from './compaction.js';
import { bind, type MysqlContext } from './context.js';
import { errorCode } from './errors.js';
import { datetime, participantsJson } from './rows.js';

/** A participant as `getConversation` and `participantsOf` select it. */
interface ParticipantRow {
  participant_id: string;
  kind: string;
  name: string | null;
  joined_at: number | string;
}

export function conversationOperations(ctx: MysqlContext): ConversationOperations {
  const { sql, execute, transaction, lock } = ctx;
  const loadConversation = (id: string) => conversationOf(ctx, id);
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
      const statement = ctx.shape(`list:${JSON.stringify(listShape)}`, () => sql.listConversations(listShape));
      const found = await ctx.rows<ConversationRow>(
        statement.text,
        bind(statement, {
          participantId: listing.participantId,
          type: listing.type,
          channel: listing.channel,
          afterActivityAt: listing.after === undefined ? undefined : datetime(listing.after.activityAt),
          afterId: listing.after?.id,
          limit: listing.limit,
        }),
      );
      return withParticipants(ctx, found);
    },

    async createConversation(request: CreateConversationRequest): Promise<Conversation> {
      const now = datetime(request.now);
      await transaction(async (run) => {
        try {
          await run(sql.createConversation, [
            request.id,
            request.type,
            request.title ?? null,
            request.channel ?? null,
            JSON.stringify(request.metadata),
            now,
            now,
            now,
          ]);
        } catch (error) {
          if (errorCode(error) === 'ER_DUP_ENTRY') {
            throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
          }
          throw error;
        }
        const participants = participantsJson(request.participants);
        if (participants !== null) await run(sql.insertParticipants, [request.id, participants]);
      });
      return (await loadConversation(request.id)) as Conversation;
    },

    async updateConversation(id: string, patch: ConversationPatch, now: string): Promise<Conversation | undefined> {
      const patches = patch.metadata === undefined ? [] : mergePatches(patch.metadata);
      let text = ctx.conversationUpdates.get(patches.length);
      if (text === undefined) {
        text = sql.updateConversation(patches.length);
        ctx.conversationUpdates.set(patches.length, text);
      }
      await execute(text, [
        patch.type ?? null,
        patch.title === undefined ? 0 : 1,
        patch.title ?? null,
        patch.channel === undefined ? 0 : 1,
        patch.channel ?? null,
        ...patches,
        datetime(now),
        id,
      ]);
      return loadConversation(id);
    },

    async addParticipants(conversationId: string, participants: Participant[], now: string) {
      const found = await transaction(async (run) => {
        if (!(await lock(run, conversationId))) return false;
        await run(sql.touchConversation, [datetime(now), conversationId]);
        const list = participantsJson(participants);
        if (list !== null) await run(sql.insertParticipants, [conversationId, list]);
        return true;
      });
      return found ? loadConversation(conversationId) : undefined;
    },

    async removeParticipant(conversationId: string, participantId: string, now: string) {
      const found = await transaction(async (run) => {
        if (!(await lock(run, conversationId))) return false;
        await run(sql.touchConversation, [datetime(now), conversationId]);
        await run(sql.removeParticipant, [conversationId, participantId]);
        return true;
      });
      return found ? loadConversation(conversationId) : undefined;
    },

    async deleteConversation(id: string, options: ConversationDeletion): Promise<boolean> {
      const found = await transaction(async (run) => {
        // Locked first: an append in flight finishes before, and none starts until the delete commits.
        if (!(await lock(run, id))) return false;
        if (options.hard && options.ifUnchanged !== undefined) {
          const found = (await run(sql.conversation, [id])) as (ConversationRow & ParticipantRow)[];
          if (!atVersion(joinedConversation(found) as Conversation, options.ifUnchanged)) return false;
        }
        if (options.hard) {
          await run(sql.deleteMessagesOf, [id]);
          await run(sql.deleteParticipantsOf, [id]);
          await run(sql.deleteConversation, [id]);
        } else {
          const now = datetime(options.now);
          await run(sql.softDeleteConversation, [now, now, id]);
          await run(sql.softDeleteMessagesOf, [now, id]);
        }
        return true;
      });
      if (!options.hard || options.compact !== true) return found;
      return compactAfter(found, () => compactTables(ctx));
    },
  };
}

/**
 * A merge patch as single-key patches applied one after another, which is the same merge (RFC 7396
 * merges each key on its own). MariaDB's JSON_MERGE_PATCH mishandles a patch that removes a key
 * (`null`) after merging into an object (`{"b":{"f":2},"a":null}` leaves `{"b":{"c":1}}`), but is
 * right for one key at a time. The count is padded with `{}` (no change) to a power of two, so
 * few statement shapes are prepared.
 * @example mergePatches({ a: null, b: { c: 1 } }) // ['{"a":null}', '{"b":{"c":1}}']
 */
export function mergePatches(patch: JsonObject): string[] {
  const chains: JsonObject[] = [];
  const walk = (object: JsonObject, wrap: (value: JsonValue) => JsonObject): void => {
    const entries = Object.entries(object);
    if (entries.length === 0) chains.push(wrap({}));
    for (const [key, value] of entries) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        walk(value, (inner) => wrap({ [key]: inner }));
      } else {
        chains.push(wrap({ [key]: value }));
      }
    }
  };
  walk(patch, (value) => value as JsonObject);
  // An empty patch changes nothing; `{}` itself is a no-op patch.
  const texts =
    chains.length === 1 && Object.keys(patch).length === 0 ? [] : chains.map((chain) => JSON.stringify(chain));
  let size = 1;
  while (size < texts.length) size *= 2;
  while (texts.length > 0 && texts.length < size) texts.push('{}');
  return texts;
}

/** One conversation with its participants (the statement joins them: one row each, or one of NULLs). */
async function conversationOf(ctx: MysqlContext, id: string): Promise<Conversation | undefined> {
  return joinedConversation(await ctx.rows<ConversationRow & ParticipantRow>(ctx.sql.conversation, [id]));
}

function joinedConversation(found: (ConversationRow & ParticipantRow)[]): Conversation | undefined {
  const [first] = found;
  if (first === undefined) return undefined;
  return toConversation({
    ...first,
    participants: found.filter((row) => row.participant_id !== null).map(participantTuple),
  });
}

/** A page of conversations with their participants, read in one more statement for the whole page. */
async function withParticipants(ctx: MysqlContext, found: ConversationRow[]): Promise<Conversation[]> {
  if (found.length === 0) return [];
  const byConversation = new Map<string, ParticipantTuple[]>();
  const ids = found.map((row) => row.conversation_id);
  for (const row of await ctx.rows<ParticipantRow & { conversation_id: string }>(ctx.sql.participantsOf, [
    JSON.stringify(ids),
  ])) {
    const list = byConversation.get(row.conversation_id) ?? [];
    list.push(participantTuple(row));
    byConversation.set(row.conversation_id, list);
  }
  return found.map((row) => toConversation({ ...row, participants: byConversation.get(row.conversation_id) ?? [] }));
}

function participantTuple(row: ParticipantRow): ParticipantTuple {
  return [row.participant_id, row.kind, row.name, Number(row.joined_at)];
}
