/**
 * What a provider's webhook asks of the store, as plain data: the parsers (`whatsapp.ts`,
 * `twilio.ts`, `telegram.ts`) turn a payload into events and touch nothing; `apply.ts` applies them.
 * A payload of a shape the parser does not know is an `INVALID_ARGUMENT` naming the path that failed.
 */
import { ChatStoreError } from '../errors.js';
import type { JsonObject, MessageError, MessageStatus, NewConversation, NewMessage } from '../model.js';

/** A message that arrived: appended (a retry of it is a duplicate, by its external id). */
export interface MessageEvent {
  kind: 'message';
  conversationId: string;
  message: NewMessage;
  /** What the conversation is created with when this is its first message (type, title, participants). */
  conversation?: NewConversation;
}

/** A delivery status of a message the bot sent. */
export interface StatusEvent {
  kind: 'status';
  externalId: string;
  conversationId: string;
  status: MessageStatus;
  at: string;
  error?: MessageError;
}

/** A message the sender edited: the stored one gets the new text; one never stored is appended as it is now. */
export interface EditEvent {
  kind: 'edit';
  conversationId: string;
  externalId: string;
  content: string;
  /** The message as it is now, to append when the original was never stored. */
  message: NewMessage;
  conversation?: NewConversation;
}

export type IngestEvent = MessageEvent | StatusEvent | EditEvent;

/** A payload's part that is not of the provider's documented shape. */
export function badShape(path: string, expected: string): ChatStoreError {
  return new ChatStoreError('INVALID_ARGUMENT', `${path} must be ${expected}`, { path });
}

export function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badShape(path, 'an object');
  return value as Record<string, unknown>;
}

export function arrayAt(value: unknown, path: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw badShape(path, 'an array');
  return value;
}

export function textAt(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw badShape(path, 'a non-empty string');
  return value;
}

/** An epoch-seconds time (a number or a numeric string, as the providers send it) as ISO 8601. */
export function secondsAt(value: unknown, path: string): string {
  const seconds = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0) {
    throw badShape(path, 'a time in epoch seconds');
  }
  return new Date(seconds * 1000).toISOString();
}

/** A value as JSON, for metadata: what the parser did not map is kept as it came. */
export function json(value: unknown): JsonObject[string] {
  return value as JsonObject[string];
}
