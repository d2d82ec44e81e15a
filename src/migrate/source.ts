/**
 * What a legacy layout hands the migration: conversations in source order, each with its messages
 * as the source holds them (one record per message, with the key it came from), and the records it
 * could not read. A layout only reads and groups; `legacy-message.ts` turns a record into a message.
 */

import type { NewConversation } from '../model.js';

/** One message as the source holds it, and where it came from. */
export interface SourceRecord {
  /** Where the record is, unique in the source: a KV key, or the conversation's key and the index in its array (`+1555…#12`). */
  key: string;
  value: unknown;
  /** A time the source gives this record outside its value (a KV key's timestamp, a sorted set's score). */
  time?: unknown;
  /** The row's primary key, for a record read from a table: what `deleteSource` deletes. */
  rowId?: string;
}

/** One conversation of the source, its records in source order. */
export interface SourceConversation {
  /** The conversation's key in the source: a phone number, a chat or session id. */
  key: string;
  records: SourceRecord[];
  /** A time the source gives the conversation (`lastUpdated`), for its messages that carry none. */
  fallbackTime?: unknown;
  /** What the source says of the conversation itself (`context_type`; a thread's title, metadata and owner): it is created with these. */
  attributes?: NewConversation;
}

/** A record or value the layout could not read, with where it is and why. */
export interface SourceError {
  source: string;
  reason: string;
}

/** Deletes what a run moved out of its source (`deleteSource`), one matched conversation at a time. */
export interface SourceDeleter {
  /** One conversation's records, as this pass read them: deleted now, or (a file's, a libSQL file's) by `finish`. */
  remove(conversation: SourceConversation): Promise<void>;
  /**
   * The end of the pass. `whole`: every conversation matched and nothing failed; only then is a file
   * deleted. Resolves to whether what `remove` was given is gone from the source.
   */
  finish(whole: boolean): Promise<boolean>;
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
  'mastra-postgres',
  'mastra-libsql',
] as const;
export type LayoutName = (typeof LAYOUTS)[number];
