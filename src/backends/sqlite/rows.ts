/**
 * Rows of the sqlite backend's tables and their mapping to the model. A message is stored whole as
 * JSON (optional fields absent, as the model has them) beside the columns queries filter on; a
 * conversation's optional fields are NULL columns and come back absent (invariant 6 in docs/ARCHITECTURE.md).
 */
import type { Conversation, Message, Participant, ParticipantKind } from '../../model.js';

/** What reads select of a `messages` row: the message as JSON. */
export interface MessageRow {
  body: string;
}

/** The bound values of a message: the queried columns, derived from the message, and its JSON. */
export interface MessageParams {
  conversation_id: string;
  seq: number;
  id: string;
  external_id: string | null;
  role: string;
  direction: string;
  sender_id: string | null;
  recipient_id: string | null;
  has_media: number;
  status: string | null;
  command_name: string | null;
  command_admin: number | null;
  created_at: string;
  deleted_at: string | null;
  body: string;
}

/** A `conversations` row. */
export interface ConversationRow {
  id: string;
  type: string;
  title: string | null;
  channel: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
  last_seq: number;
  message_count: number;
  last_message_at: string | null;
  activity_at: string;
  deleted_at: string | null;
}

/** A `participants` row. */
export interface ParticipantRow {
  conversation_id: string;
  participant_id: string;
  kind: string;
  name: string | null;
  joined_at: string;
}

/** The message a row holds: its body, parsed. */
export function toMessage(row: MessageRow): Message {
  return JSON.parse(row.body) as Message;
}

/** The one place the queried columns are derived from a message. */
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
    has_media: message.media === undefined ? 0 : 1,
    status: message.status ?? null,
    command_name: message.command?.name ?? null,
    command_admin: message.command === undefined ? null : Number(message.command.admin),
    created_at: message.createdAt,
    deleted_at: message.deletedAt ?? null,
    body: JSON.stringify(message),
  };
}

/** A participant as the model has it: a NULL name comes back absent. */
export function toParticipant(row: ParticipantRow): Participant {
  return {
    id: row.participant_id,
    kind: row.kind as ParticipantKind,
    ...(row.name === null ? {} : { name: row.name }),
    joinedAt: row.joined_at,
  };
}

/** `participants` must be this conversation's rows, ordered by joined_at then id. */
export function toConversation(row: ConversationRow, participants: ParticipantRow[]): Conversation {
  return {
    id: row.id,
    type: row.type,
    ...(row.title === null ? {} : { title: row.title }),
    ...(row.channel === null ? {} : { channel: row.channel }),
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
