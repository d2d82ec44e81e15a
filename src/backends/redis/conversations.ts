/**
 * Conversations: read, listed (by activity from the activity index, by participant from the
 * participant's index, every entry verified against the conversation), created, updated, their
 * participants, soft and hard deletes.
 */
import type {
  ConversationDeletion,
  ConversationQuery,
  ConversationVersion,
  CreateConversationRequest,
} from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import { applyMergePatch } from '../../merge-patch.js';
import type { Conversation, ConversationPatch, JsonObject, Participant } from '../../model.js';
import { compareUtf8 } from '../../text.js';
import type { ConversationOperations } from '../operations.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { releaseClaims } from './claims.js';
import { compactingAfter } from './compaction.js';
import { inBatches, type RedisContext } from './context.js';
import { indexOutbox, unindex, unindexAll } from './global-index.js';
import { activityMember, SEPARATOR } from './keys.js';
import {
  ADD_PARTICIPANTS,
  CREATE_CONVERSATION,
  DROP_CONVERSATION,
  READ_CONVERSATION,
  REMOVE_PARTICIPANT,
  SOFT_DELETE_CONVERSATION,
  UPDATE_CONVERSATION,
} from './scripts.js';

/** Messages a soft delete of a conversation stamps per script call. */
const SOFT_DELETE_STEP = 500;

/** A conversation hash and its participants hash, as HGETALL replies. */
type Snapshot = [string[], string[]];

/** What a hard delete of a conversation removed, for erasure receipts. */
export interface DroppedConversation {
  messageCount: number;
  participants: string[];
}

export function conversationOperations(ctx: RedisContext): ConversationOperations {
  const { guard, inConversation } = ctx;
  return {
    getConversation: (id) => guard(() => readConversation(ctx, id)),

    listConversations: (query) =>
      guard(() =>
        query.participantId === undefined
          ? listByActivity(ctx, query)
          : listByParticipant(ctx, { ...query, participantId: query.participantId }),
      ),

    createConversation: (request: CreateConversationRequest) =>
      guard(async () => {
        const reply = (await inConversation(CREATE_CONVERSATION, request.id, [
          request.type,
          request.title === undefined ? '' : `+${request.title}`,
          JSON.stringify(request.metadata),
          request.now,
          request.channel === undefined ? '' : `+${request.channel}`,
          ...participantArgs(request.participants),
        ])) as ['CONFLICT'] | ['OK', Snapshot, string[]];
        if (reply[0] === 'CONFLICT') throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
        await indexOutbox(ctx, request.id, reply[2]);
        return toConversation(request.id, reply[1]);
      }),

    updateConversation: (id: string, patch: ConversationPatch, now: string) =>
      guard(() => updateConversationNow(ctx, id, patch, now)),

    addParticipants: (conversationId: string, participants: Participant[], now: string) =>
      guard(async () => {
        const reply = (await inConversation(ADD_PARTICIPANTS, conversationId, [
          now,
          ...participantArgs(participants),
        ])) as [Snapshot, string[]] | null;
        if (reply === null) return undefined;
        await indexOutbox(ctx, conversationId, reply[1]);
        return toConversation(conversationId, reply[0]);
      }),

    removeParticipant: (conversationId: string, participantId: string, now: string) =>
      guard(async () => {
        const reply = (await inConversation(REMOVE_PARTICIPANT, conversationId, [participantId, now])) as
          | [Snapshot]
          | null;
        if (reply === null) return undefined;
        await unindex(ctx, conversationId, `p${SEPARATOR}${participantId}`);
        return toConversation(conversationId, reply[0]);
      }),

    deleteConversation: (id: string, options: ConversationDeletion) =>
      guard(async () => {
        if (options.hard)
          return compactingAfter(
            ctx,
            options,
            dropConversation(ctx, id, options.ifUnchanged).then((dropped) => dropped !== undefined),
          );
        let upTo = '';
        for (let first = true; ; first = false) {
          const reply = (await inConversation(SOFT_DELETE_CONVERSATION, id, [
            options.now,
            first ? '1' : '0',
            upTo,
            SOFT_DELETE_STEP,
          ])) as [string, number] | null;
          if (reply === null) return !first;
          upTo = reply[0];
          if (reply[1] < SOFT_DELETE_STEP) return true;
        }
      }),
  };
}

/** Hard-deletes a conversation and its index entries; what it removed, or undefined when missing. */
export async function dropConversation(
  ctx: RedisContext,
  id: string,
  ifUnchanged?: ConversationVersion,
): Promise<DroppedConversation | undefined> {
  const version =
    ifUnchanged === undefined ? [] : [ifUnchanged.lastSeq, ifUnchanged.messageCount, ifUnchanged.updatedAt];
  const reply = (await ctx.inConversation(DROP_CONVERSATION, id, version)) as
    | [string, number, string[], string[], string[], string[]]
    | null;
  if (reply === null) return undefined;
  const [activity, messageCount, ids, externalIds, people, participants] = reply;
  await releaseClaims(ctx, id, ids);
  await unindexAll(ctx, id, [
    'c',
    `a${SEPARATOR}${activity}`,
    ...people.map((pid) => `p${SEPARATOR}${pid}`),
    ...externalIds.map((externalId) => `x${SEPARATOR}${externalId}`),
  ]);
  return { messageCount, participants };
}

async function readConversation(ctx: RedisContext, id: string): Promise<Conversation | undefined> {
  const reply = (await ctx.inConversation(READ_CONVERSATION, id)) as Snapshot | null;
  return reply === null ? undefined : toConversation(id, reply);
}

async function updateConversationNow(
  { client, keys, inConversation }: RedisContext,
  id: string,
  patch: ConversationPatch,
  now: string,
): Promise<Conversation | undefined> {
  let read: string | null = null;
  if (patch.metadata !== undefined) {
    read = (await client.call('HGET', keys.conversation(id).conv, 'metadata')) as string | null;
    if (read === null) return undefined;
  }
  const title = patch.title === undefined ? '' : patch.title === null ? '-' : `+${patch.title}`;
  const channel = patch.channel === undefined ? '' : patch.channel === null ? '-' : `+${patch.channel}`;
  return untilUnchanged(`conversation ${id}`, async () => {
    const merged =
      patch.metadata === undefined || read === null
        ? ''
        : JSON.stringify(applyMergePatch(JSON.parse(read) as JsonObject, patch.metadata));
    const reply = (await inConversation(UPDATE_CONVERSATION, id, [
      patch.type ?? '',
      title,
      patch.metadata === undefined ? '0' : '1',
      read ?? '',
      merged,
      now,
      channel,
    ])) as ['OK', Snapshot] | ['RETRY', string | null] | null;
    if (reply === null) return undefined;
    if (reply[0] === 'OK') return toConversation(id, reply[1]);
    read = reply[1];
    return read === null ? undefined : CHANGED;
  });
}

/** Conversations by activity, from the activity index, verified against each conversation. */
async function listByActivity(ctx: RedisContext, query: ConversationQuery): Promise<Conversation[]> {
  const { client, keys, background } = ctx;
  const found: Conversation[] = [];
  let start = query.after === undefined ? '+' : `(${activityMember(query.after.activityAt, query.after.id)}`;
  const batch = Math.min(Math.max(query.limit, 50), 1000);
  for (;;) {
    const members = (await client.call(
      'ZRANGE',
      keys.activity,
      start,
      '-',
      'BYLEX',
      'REV',
      'LIMIT',
      0,
      batch,
    )) as string[];
    const entries = members.map((member) => {
      const at = member.indexOf(SEPARATOR);
      return { activityAt: member.slice(0, at), id: member.slice(at + 1), member };
    });
    const conversations = await Promise.all(entries.map((entry) => readConversation(ctx, entry.id)));
    for (const [i, entry] of entries.entries()) {
      const conversation = conversations[i];
      if (conversation === undefined || activityOf(conversation) !== entry.activityAt) {
        background(() => unindex(ctx, entry.id, `a${SEPARATOR}${entry.activityAt}`));
        continue;
      }
      if (!query.includeDeleted && conversation.deletedAt !== undefined) continue;
      if (query.type !== undefined && conversation.type !== query.type) continue;
      if (query.channel !== undefined && conversation.channel !== query.channel) continue;
      found.push(conversation);
      if (found.length === query.limit) return found;
    }
    if (members.length < batch) return found;
    start = `(${members[members.length - 1]}`;
  }
}

/** Conversations of one participant: all of them read, filtered and sorted (a person has few). */
async function listByParticipant(
  ctx: RedisContext,
  query: ConversationQuery & { participantId: string },
): Promise<Conversation[]> {
  const ids = (await ctx.client.call('ZRANGE', ctx.keys.participant(query.participantId), 0, -1)) as string[];
  const conversations = await inBatches(ids, (id) => readConversation(ctx, id));
  const after = query.after;
  return conversations
    .filter((c): c is Conversation => c !== undefined)
    .filter((c) => c.participants.some((p) => p.id === query.participantId))
    .filter((c) => query.includeDeleted || c.deletedAt === undefined)
    .filter((c) => query.type === undefined || c.type === query.type)
    .filter((c) => query.channel === undefined || c.channel === query.channel)
    .filter((c) => {
      if (after === undefined) return true;
      const at = activityOf(c);
      return at < after.activityAt || (at === after.activityAt && compareUtf8(c.id, after.id) < 0);
    })
    .sort((a, b) => compareUtf8(activityOf(b), activityOf(a)) || compareUtf8(b.id, a.id))
    .slice(0, query.limit);
}

function participantArgs(participants: Participant[]): string[] {
  return participants.flatMap((p) => [p.id, JSON.stringify(p)]);
}

function toConversation(id: string, [conversationFields, participantFields]: Snapshot): Conversation {
  const fields = new Map<string, string>();
  for (let i = 0; i < conversationFields.length; i += 2) {
    fields.set(conversationFields[i] as string, conversationFields[i + 1] as string);
  }
  const participants: Participant[] = [];
  for (let i = 1; i < participantFields.length; i += 2) {
    participants.push(JSON.parse(participantFields[i] as string) as Participant);
  }
  participants.sort((a, b) => compareUtf8(a.joinedAt, b.joinedAt) || compareUtf8(a.id, b.id));
  const title = fields.get('title');
  const channel = fields.get('channel');
  const lastMessageAt = fields.get('lastMessageAt');
  const deletedAt = fields.get('deletedAt');
  return {
    id,
    type: fields.get('type') as string,
    ...(title === undefined ? {} : { title }),
    ...(channel === undefined ? {} : { channel }),
    participants,
    metadata: JSON.parse(fields.get('metadata') as string) as JsonObject,
    createdAt: fields.get('createdAt') as string,
    updatedAt: fields.get('updatedAt') as string,
    lastSeq: Number(fields.get('lastSeq')),
    messageCount: Number(fields.get('messageCount')),
    ...(lastMessageAt === undefined ? {} : { lastMessageAt }),
    ...(deletedAt === undefined ? {} : { deletedAt }),
  };
}

function activityOf(conversation: Conversation): string {
  return conversation.lastMessageAt ?? conversation.createdAt;
}
