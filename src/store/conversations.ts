/** ChatStore's conversation calls: read, list by activity, create, update, members, delete, stats. */
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ChatStoreError } from '../errors.js';
import type {
  Conversation,
  ConversationPage,
  ConversationPatch,
  NewConversation,
  NewParticipant,
  Stats,
} from '../model.js';
import { canonicalConversation, canonicalStats } from './canonical.js';
import type { StoreCore } from './core.js';
import { dedupeParticipants, participant } from './drafts.js';
import type { DeleteOptions, ListConversationsOptions } from './options.js';
import { compacting } from './writes.js';

const DEFAULT_CONVERSATIONS = 20;

export async function conversationById(core: StoreCore, id: string): Promise<Conversation | undefined> {
  const conversation = await core.backend.getConversation(core.validate.id(id, 'id'));
  return conversation === undefined ? undefined : canonicalConversation(conversation);
}

export async function listConversations(core: StoreCore, options: ListConversationsOptions): Promise<ConversationPage> {
  const { validate } = core;
  const limit = validate.limit(options.limit, DEFAULT_CONVERSATIONS, 'limit');
  const after =
    options.cursor === undefined
      ? undefined
      : decodeCursor(validate.text(options.cursor, 'cursor'), 'conversations').position;
  const rows = await core.backend.listConversations({
    limit: limit + 1,
    includeDeleted: options.includeDeleted === true,
    ...(options.participantId === undefined
      ? {}
      : { participantId: validate.id(options.participantId, 'participantId') }),
    ...(options.type === undefined ? {} : { type: validate.id(options.type, 'type') }),
    ...(options.channel === undefined ? {} : { channel: validate.channel(options.channel, 'channel') }),
    ...(after === undefined ? {} : { after }),
  });
  if (rows.length <= limit) return { conversations: rows.map(canonicalConversation) };
  const conversations = rows.slice(0, limit).map(canonicalConversation);
  const last = conversations[conversations.length - 1] as Conversation;
  return {
    conversations,
    next: encodeCursor({
      kind: 'conversations',
      position: { activityAt: last.lastMessageAt ?? last.createdAt, id: last.id },
    }),
  };
}

export async function createConversation(core: StoreCore, id: string, init: NewConversation): Promise<Conversation> {
  const key = core.validate.id(id, 'id');
  const valid = core.validate.conversation(init, 'conversation');
  const now = core.timestamp();
  const created = await core.backend.createConversation({
    id: key,
    type: valid.type ?? 'private',
    ...(valid.title === undefined ? {} : { title: valid.title }),
    ...(valid.channel === undefined ? {} : { channel: valid.channel }),
    metadata: valid.metadata ?? {},
    participants: dedupeParticipants((valid.participants ?? []).map((p) => participant(p, now))),
    now,
  });
  return canonicalConversation(created);
}

export async function updateConversation(core: StoreCore, id: string, patch: ConversationPatch): Promise<Conversation> {
  const key = core.validate.id(id, 'id');
  const valid = core.validate.patch(patch, 'patch');
  return found(key, await core.backend.updateConversation(key, valid, core.timestamp()));
}

export async function addParticipants(
  core: StoreCore,
  id: string,
  participants: NewParticipant[],
): Promise<Conversation> {
  const key = core.validate.id(id, 'id');
  const now = core.timestamp();
  const valid = core.validate.participants(participants, 'participants').map((p) => participant(p, now));
  return found(key, await core.backend.addParticipants(key, dedupeParticipants(valid), now));
}

export async function removeParticipant(core: StoreCore, id: string, participantId: string): Promise<Conversation> {
  const key = core.validate.id(id, 'id');
  const member = core.validate.id(participantId, 'participantId');
  return found(key, await core.backend.removeParticipant(key, member, core.timestamp()));
}

export async function deleteConversation(core: StoreCore, id: string, options: DeleteOptions): Promise<boolean> {
  const key = core.validate.id(id, 'id');
  const now = core.timestamp();
  if (compacting(core, options)) return core.backend.deleteConversation(key, { hard: true, now, compact: true });
  return core.backend.deleteConversation(key, { hard: options.hard === true, now });
}

export async function storeStats(core: StoreCore, conversationId: string | undefined): Promise<Stats> {
  const stats = await core.backend.stats(
    conversationId === undefined ? undefined : core.validate.id(conversationId, 'conversationId'),
  );
  return canonicalStats(stats);
}

function found(key: string, conversation: Conversation | undefined): Conversation {
  if (conversation === undefined) throw new ChatStoreError('NOT_FOUND', `conversation ${key} not found`);
  return canonicalConversation(conversation);
}
