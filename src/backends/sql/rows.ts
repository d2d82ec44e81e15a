/**
 * The message log of the old design as SQL columns, and the rows of messages and conversations as
 * read, for the server SQL backends (postgres, mysql). Engine-neutral: an engine writes the values
 * `messageColumns` gives (times as ISO strings) plus the message whole (`messageBody`, JSON), and
 * reads a message back from its body and three columns (`fromStoredMessage`), every time as epoch
 * milliseconds.
 *
 * Optional fields are NULL in the engine and absent in the model (invariant 6 in docs/ARCHITECTURE.md). The body is the JSON
 * the store produced, so a message comes back exactly as given; the flat columns (`media_url`,
 * `error_message`, `delivered_at`, …) are the old log's, for indexes and SQL users.
 */
import type {
  Conversation,
  JsonObject,
  JsonValue,
  Media,
  Message,
  Participant,
  ParticipantKind,
  Stats,
} from '../../model.js';
import { searchTerms } from '../../text.js';
import { type ChannelStatsRow, channelCounts } from '../stats.js';

/** A time as an engine returns it: epoch milliseconds (a number, or a numeric string). */
type StoredTime = number | string;

/**
 * A message as the values of its columns, times as ISO strings, structured values as JSON values
 * (an engine binds them as JSON text, `JSON.stringify`). `search_text` is the content's
 * words as the store's search rule sees them, space-separated: the engine's full-text index is
 * built from it, so matching is the same on every engine.
 */
export interface MessageColumns {
  id: string;
  conversation_id: string;
  seq: number;
  external_id: string | null;
  role: string;
  direction: string;
  sender_id: string | null;
  recipient_id: string | null;
  content: string;
  search_text: string;
  parts: JsonValue[] | null;
  media: Media[] | null;
  media_url: string | null;
  media_type: string | null;
  media_content_type: string | null;
  media_size: number | null;
  status: string | null;
  error_code: string | null;
  error_message: string | null;
  queued_at: string | null;
  sent_at: string | null;
  delivered_at: string | null;
  read_at: string | null;
  failed_at: string | null;
  reply_to: string | null;
  command_name: string | null;
  is_admin_command: boolean;
  metadata: JsonObject | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}

/**
 * A message as stored whole (the `body` column): every field but the four kept as columns and read
 * from them: `conversation_id`, `seq` and `deleted_at`, which change without the body (a
 * conversation's soft delete sets `deleted_at` on all its rows) or key the row, and `content`, the
 * largest field, which the `content` column holds for SQL users and the search index already (a
 * body written before content left it may still hold it; the column wins).
 */
export type MessageBody = Omit<Message, 'conversationId' | 'seq' | 'deletedAt' | 'content'>;

/** A message row as read with its body: the body (parsed, or JSON text) and the four columns. */
export interface StoredMessageRow {
  conversation_id: string;
  seq: number | string;
  body: MessageBody | string;
  content: string;
  deleted_at: StoredTime | null;
}

export function messageBody(message: Message): MessageBody {
  const { conversationId: _conversation, seq: _seq, deletedAt: _deleted, content: _content, ...body } = message;
  return body;
}

export function fromStoredMessage(row: StoredMessageRow): Message {
  const body = parsed(row.body);
  return {
    ...body,
    content: row.content,
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    ...(row.deleted_at === null ? {} : { deletedAt: isoTime(row.deleted_at) }),
  };
}

/** The words of a text as the full-text index stores them (`searchTerms`, space-separated). */
export function searchText(content: string): string {
  return searchTerms(content).join(' ');
}

export function messageColumns(message: Message): MessageColumns {
  const first = message.media?.[0];
  return {
    id: message.id,
    conversation_id: message.conversationId,
    seq: message.seq,
    external_id: message.externalId ?? null,
    role: message.role,
    direction: message.direction,
    sender_id: message.senderId ?? null,
    recipient_id: message.recipientId ?? null,
    content: message.content,
    search_text: searchText(message.content),
    parts: message.parts ?? null,
    media: message.media ?? null,
    media_url: first?.url ?? null,
    media_type: first?.type ?? null,
    media_content_type: first?.mimeType ?? null,
    media_size: first?.size ?? null,
    status: message.status ?? null,
    error_code: message.error?.code ?? null,
    error_message: message.error?.message ?? null,
    queued_at: message.statusAt?.queued ?? null,
    sent_at: message.statusAt?.sent ?? null,
    delivered_at: message.statusAt?.delivered ?? null,
    read_at: message.statusAt?.read ?? null,
    failed_at: message.statusAt?.failed ?? null,
    reply_to: message.replyTo ?? null,
    command_name: message.command?.name ?? null,
    is_admin_command: message.command?.admin ?? false,
    metadata: message.metadata ?? null,
    created_at: message.createdAt,
    edited_at: message.editedAt ?? null,
    deleted_at: message.deletedAt ?? null,
  };
}

/** A `conversations` row as read, times in epoch milliseconds, participants as `[id, kind, name, joinedAt]`. */
export interface ConversationRow {
  conversation_id: string;
  type: string;
  title: string | null;
  channel: string | null;
  metadata: JsonObject | string;
  created_at: StoredTime;
  updated_at: StoredTime;
  last_seq: number | string;
  message_count: number | string;
  last_message_at: StoredTime | null;
  deleted_at: StoredTime | null;
  /** Ordered by joinedAt, then id. */
  participants: ParticipantTuple[] | string;
}

/** A participant as a JSON array: `[id, kind, name, joinedAt (epoch ms)]`. */
export type ParticipantTuple = [string, string, string | null, number];

export function toConversation(row: ConversationRow): Conversation {
  const participants = parsed<ParticipantTuple[]>(row.participants).map(
    ([id, kind, name, joinedAt]): Participant => ({
      id,
      kind: kind as ParticipantKind,
      ...(name === null ? {} : { name }),
      joinedAt: isoTime(joinedAt),
    }),
  );
  return {
    id: row.conversation_id,
    type: row.type,
    ...(row.title === null ? {} : { title: row.title }),
    ...(row.channel === null ? {} : { channel: row.channel }),
    participants,
    metadata: parsed(row.metadata),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
    lastSeq: Number(row.last_seq),
    messageCount: Number(row.message_count),
    ...(row.last_message_at === null ? {} : { lastMessageAt: isoTime(row.last_message_at) }),
    ...(row.deleted_at === null ? {} : { deletedAt: isoTime(row.deleted_at) }),
  };
}

/** Participants as the values to insert, times as ISO strings. */
export function participantColumns(
  participants: readonly Participant[],
): { participant_id: string; kind: string; name: string | null; joined_at: string }[] {
  return participants.map((participant) => ({
    participant_id: participant.id,
    kind: participant.kind,
    name: participant.name ?? null,
    joined_at: participant.joinedAt,
  }));
}

/** Epoch milliseconds as the model's ISO time (`YYYY-MM-DDTHH:mm:ss.sssZ`). */
export function isoTime(value: StoredTime): string {
  return new Date(Math.round(Number(value))).toISOString();
}

function parsed<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

/** A stats row of the SQL engines (counts as numbers or numeric strings, snake_case names) and its per-channel rows as `Stats`. */
export function toStats(row: Record<string, string | number | null> | undefined, channels: ChannelStatsRow[]): Stats {
  const count = (name: string): number => Number(row?.[name] ?? 0);
  return {
    total: count('total'),
    incoming: count('incoming'),
    outgoing: count('outgoing'),
    withMedia: count('with_media'),
    commands: count('commands'),
    adminCommands: count('admin_commands'),
    failed: count('failed'),
    deleted: count('deleted'),
    byRole: { user: count('user'), assistant: count('assistant'), system: count('system'), tool: count('tool') },
    conversations: count('conversations'),
    byChannel: channelCounts(channels),
  };
}
