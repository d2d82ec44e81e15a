/**
 * `Idempotency-Key` reuse with another payload, as the IETF draft "The Idempotency-Key HTTP Header
 * Field" and Stripe treat it: a key names one request; a retry must repeat its payload, and a
 * different payload under a used key is refused (422) with nothing stored.
 *
 * The key becomes message ids (the key itself for one message, `<key>:<index>` in a batch), so the
 * payload a key was used for is the stored messages with those ids. "The same payload" is compared
 * after the store's normalization, on the fields the caller chose: role, direction, content,
 * senderId, recipientId, parts, media, metadata, replyTo, externalId, and createdAt when the retry
 * gives one. Server-generated fields (seq, times the server set, detected command) and the fields
 * that legitimately move after the first request (status, statusAt, error) are not compared; nor
 * are content and metadata of a message edited since (`editedAt`).
 */
import type { JsonValue, Message, NewMessage } from '../model.js';
import { normalizeTime } from '../time.js';
import { StatusError } from './errors.js';

/** The fields a retry must repeat, in the order a difference is reported. */
export const COMPARED_FIELDS = [
  'role',
  'direction',
  'content',
  'senderId',
  'recipientId',
  'parts',
  'media',
  'metadata',
  'replyTo',
  'externalId',
  'createdAt',
] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

/**
 * The compared fields of `message` as the store would store them (the rules of `ChatStore`'s
 * normalization): role and direction derived from each other, content `''` when absent, empty media
 * and metadata dropped, createdAt normalized to ISO UTC and only when given. A field absent from the
 * result is not compared.
 */
export function storedForm(message: NewMessage): Partial<Record<ComparedField, unknown>> {
  const role = message.role ?? (message.direction === 'incoming' ? 'user' : 'assistant');
  const direction = message.direction ?? (role === 'user' ? 'incoming' : 'outgoing');
  const form: Partial<Record<ComparedField, unknown>> = {
    role,
    direction,
    content: message.content ?? '',
    senderId: message.senderId,
    recipientId: message.recipientId,
    parts: message.parts,
    media: message.media === undefined || message.media.length === 0 ? undefined : message.media,
    metadata:
      message.metadata === undefined || Object.keys(message.metadata).length === 0 ? undefined : message.metadata,
    replyTo: message.replyTo,
    externalId: message.externalId,
  };
  // An unreadable time is not compared: the store refuses it with a 400 naming the field.
  const createdAt = message.createdAt === undefined ? undefined : normalizeTime(message.createdAt);
  if (createdAt !== undefined) form.createdAt = createdAt;
  return form;
}

/** The first compared field in which `retry` differs from the `stored` message, or undefined. */
export function differingField(stored: Message, retry: NewMessage): ComparedField | undefined {
  const expected = storedForm(retry);
  const edited = stored.editedAt !== undefined;
  return COMPARED_FIELDS.find(
    (field) =>
      field in expected &&
      !(edited && (field === 'content' || field === 'metadata')) &&
      !sameJson(stored[field] as JsonValue | undefined, expected[field] as JsonValue | undefined),
  );
}

/** 422 CONFLICT: the key was used for another payload. */
export function keyReused(key: string, problem: string): StatusError {
  return new StatusError(
    422,
    'CONFLICT',
    `Idempotency-Key ${key} was used for another payload (${problem}); send a new key for a new message`,
    { path: 'idempotency-key' },
  );
}

/** Deep equality of JSON values; object keys in any order (engines may reorder them). */
function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => sameJson(item, b[index] as JsonValue))
    );
  }
  const keys = Object.keys(a).filter((key) => a[key] !== undefined);
  const other = Object.keys(b).filter((key) => b[key] !== undefined);
  return keys.length === other.length && keys.every((key) => sameJson(a[key], b[key]));
}
