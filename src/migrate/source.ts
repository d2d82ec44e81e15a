/**
 * What a legacy layout hands the migration: conversations in source order, each with its messages
 * as the source holds them (one record per message, with the key it came from), and the records it
 * could not read. A layout only reads and groups; `legacy-message.ts` turns a record into a message.
 */

/** One message as the source holds it, and where it came from. */
export interface SourceRecord {
  /** Where the record is, unique in the source: a KV key, or the conversation's key and the index in its array (`+1555…#12`). */
  key: string;
  value: unknown;
  /** A time the source gives this record outside its value (a KV key's timestamp, a sorted set's score). */
  time?: unknown;
}

/** One conversation of the source, its records in source order. */
export interface SourceConversation {
  /** The conversation's key in the source: a phone number, a chat or session id. */
  key: string;
  records: SourceRecord[];
  /** A time the source gives the conversation (`lastUpdated`), for its messages that carry none. */
  fallbackTime?: unknown;
  /** The conversation's type when the source has one (`context_type`: private, group). */
  type?: string;
}

/** A record or value the layout could not read, with where it is and why. */
export interface SourceError {
  source: string;
  reason: string;
}

export type SourceItem =
  | { kind: 'conversation'; conversation: SourceConversation }
  | { kind: 'error'; error: SourceError };

/** The layouts chatstore migrates from (README, "Coming from…"). */
export const LAYOUTS = [
  'json-file',
  'kv-single',
  'kv-chunked',
  'kv-message',
  'sorted-index',
  'message-log',
  'langchain-postgres',
  'langchain-redis',
] as const;
export type LayoutName = (typeof LAYOUTS)[number];
