/**
 * Rows of the mysql backend's `messages` table and their mapping to the model. A message is stored
 * as one JSON `body` (what reads parse: one column decodes far faster than twenty) beside the
 * columns that queries filter, count or index. The body leaves out what columns already hold and
 * what changes without a rewrite: `id`, `conversationId`, `seq` (given by the engine's counter in
 * the one-trip append) and `deletedAt` (set on a whole conversation by one UPDATE).
 *
 * Times are DATETIME(3) in UTC, written as `YYYY-MM-DD HH:MM:SS.mmm` and read as epoch milliseconds
 * (`TIMESTAMPDIFF`, see `statements.ts`): no session time zone or driver date option can change what
 * comes back. Conversation rows map through the shared `sql/rows.ts`.
 */
import type { JsonValue, Message, Participant } from '../../model.js';
import { isoTime } from '../sql/rows.js';
import { type SearchDocument, searchDocument, type TokenLimits } from './search.js';

/** What reads select of a `messages` row. */
export interface MessageRow {
  conversation_id: string;
  seq: number | string;
  id: string;
  /** The JSON text, or already parsed (mysql2 parses columns MariaDB reports as JSON, unless `jsonStrings`). */
  body: string | Record<string, unknown>;
  /** Epoch milliseconds, or NULL. */
  deleted_at: number | string | null;
}

/**
 * The values of one message as the append procedure and the general append path take them (one
 * JSON array per message, the order of `MESSAGE_INPUT` in `statements.ts`), seq relative to a base.
 */
export type MessageInput = [
  relativeSeq: number,
  id: string,
  externalId: string | null,
  role: string,
  direction: string,
  senderId: string | null,
  recipientId: string | null,
  status: string | null,
  hasMedia: number,
  commandName: string | null,
  commandAdmin: number | null,
  createdAt: string,
  deletedAt: string | null,
  termCount: number,
  searchText: string,
  body: string,
];

/** An ISO time as a DATETIME(3) literal (`YYYY-MM-DD HH:MM:SS.mmm`, UTC). */
export function datetime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** `datetime`, NULL for an absent time. */
export function datetimeOrNull(iso: string | undefined): string | null {
  return iso === undefined ? null : datetime(iso);
}

/** The JSON body of a message: every field but the ones columns hold (id, conversationId, seq, deletedAt). */
export function messageBody(message: Message): string {
  const { id: _id, conversationId: _conversationId, seq: _seq, deletedAt: _deletedAt, ...fields } = message;
  return JSON.stringify(fields);
}

/** A message as a `MessageInput`, its seq relative to the base the statement adds. */
export function messageInput(message: Message, relativeSeq: number, limits: TokenLimits): MessageInput {
  const document: SearchDocument = searchDocument(message.content, limits);
  return [
    relativeSeq,
    message.id,
    message.externalId ?? null,
    message.role,
    message.direction,
    message.senderId ?? null,
    message.recipientId ?? null,
    message.status ?? null,
    message.media === undefined ? 0 : 1,
    message.command?.name ?? null,
    message.command === undefined ? null : Number(message.command.admin),
    datetime(message.createdAt),
    datetimeOrNull(message.deletedAt),
    document.termCount,
    document.text,
    messageBody(message),
  ];
}

/**
 * Participants as the append procedure and `insertParticipants` take them (`[id, kind, name, joinedAt]`
 * arrays, see `insertParticipantsSql`); NULL when there are none.
 */
export function participantsJson(participants: readonly Participant[]): string | null {
  return participants.length === 0
    ? null
    : JSON.stringify(participants.map((p): JsonValue[] => [p.id, p.kind, p.name ?? null, datetime(p.joinedAt)]));
}

/** A `messages` row as a message. */
export function toMessage(row: MessageRow): Message {
  const message: Message = {
    id: row.id,
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    ...((typeof row.body === 'string' ? JSON.parse(row.body) : row.body) as Omit<
      Message,
      'id' | 'conversationId' | 'seq'
    >),
  };
  if (row.deleted_at !== null) message.deletedAt = isoTime(row.deleted_at);
  return message;
}
