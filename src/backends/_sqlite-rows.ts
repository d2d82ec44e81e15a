/**
 * Rows of the sqlite backend's tables and their mapping to the model. Optional fields are stored
 * as NULL and come back absent (DESIGN §4.6); structured fields are JSON text.
 */
import type { Conversation, Direction, Message, MessageStatus, Participant, ParticipantKind, Role } from '../model.js';

/** A `messages` row. @example const message = toMessage(row as MessageRow); */
export interface MessageRow {
  pk: number;
  conversation_id: string;
  seq: number;
  id: string;
  external_id: string | null;
  role: string;
  direction: string;
  sender_id: string | null;
  recipient_id: string | null;
  content: string;
  parts: string | null;
  media: string | null;
  status: string | null;
  status_at: string | null;
  error: string | null;
  reply_to: string | null;
  command_name: string | null;
  command_admin: number | null;
  metadata: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}

/** The bound values of a message, named as the `messages` columns. @example insert.run(messageParams(m)); */
export type MessageParams = Omit<MessageRow, 'pk'>;

/** A `conversations` row. @example const c = toConversation(row, participantRows); */
export interface ConversationRow {
  id: string;
  type: string;
  title: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
  last_seq: number;
  message_count: number;
  last_message_at: string | null;
  activity_at: string;
  deleted_at: string | null;
}

/** A `participants` row. @example const p = toParticipant(row); */
export interface ParticipantRow {
  conversation_id: string;
  participant_id: string;
  kind: string;
  name: string | null;
  joined_at: string;
}

/** @example const message = toMessage(db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow); */
export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    ...(row.external_id === null ? {} : { externalId: row.external_id }),
    role: row.role as Role,
    direction: row.direction as Direction,
    ...(row.sender_id === null ? {} : { senderId: row.sender_id }),
    ...(row.recipient_id === null ? {} : { recipientId: row.recipient_id }),
    content: row.content,
    ...(row.parts === null ? {} : { parts: JSON.parse(row.parts) }),
    ...(row.media === null ? {} : { media: JSON.parse(row.media) }),
    ...(row.status === null ? {} : { status: row.status as MessageStatus }),
    ...(row.status_at === null ? {} : { statusAt: JSON.parse(row.status_at) }),
    ...(row.error === null ? {} : { error: JSON.parse(row.error) }),
    ...(row.reply_to === null ? {} : { replyTo: row.reply_to }),
    ...(row.command_name === null ? {} : { command: { name: row.command_name, admin: row.command_admin === 1 } }),
    ...(row.metadata === null ? {} : { metadata: JSON.parse(row.metadata) }),
    createdAt: row.created_at,
    ...(row.edited_at === null ? {} : { editedAt: row.edited_at }),
    ...(row.deleted_at === null ? {} : { deletedAt: row.deleted_at }),
  };
}

/** @example insertMessage.run(messageParams(message)); */
export function messageParams(message: Message): MessageParams {
  return {
    conversation_id: message.conversationId,
    seq: message.seq,
    id: message.id,
    external_id: message.externalId ?? null,
    role: message.role,
    direction: message.direction,
    sender_id: message.senderId ?? null,
    recipient_id: message.recipientId ?? null,
    content: message.content,
    parts: json(message.parts),
    media: json(message.media),
    status: message.status ?? null,
    status_at: json(message.statusAt),
    error: json(message.error),
    reply_to: message.replyTo ?? null,
    command_name: message.command?.name ?? null,
    command_admin: message.command === undefined ? null : Number(message.command.admin),
    metadata: json(message.metadata),
    created_at: message.createdAt,
    edited_at: message.editedAt ?? null,
    deleted_at: message.deletedAt ?? null,
  };
}

/** @example const p = toParticipant({ conversation_id: 'c', participant_id: 'u', kind: 'human', name: null, joined_at: now }); */
export function toParticipant(row: ParticipantRow): Participant {
  return {
    id: row.participant_id,
    kind: row.kind as ParticipantKind,
    ...(row.name === null ? {} : { name: row.name }),
    joinedAt: row.joined_at,
  };
}

/** `participants` must be this conversation's rows, ordered by joined_at then id. @example toConversation(row, []) */
export function toConversation(row: ConversationRow, participants: ParticipantRow[]): Conversation {
  return {
    id: row.id,
    type: row.type,
    ...(row.title === null ? {} : { title: row.title }),
    participants: participants.map(toParticipant),
    metadata: JSON.parse(row.metadata),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSeq: row.last_seq,
    messageCount: row.message_count,
    ...(row.last_message_at === null ? {} : { lastMessageAt: row.last_message_at }),
    ...(row.deleted_at === null ? {} : { deletedAt: row.deleted_at }),
  };
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
