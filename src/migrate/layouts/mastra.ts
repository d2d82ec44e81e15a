/**
 * Mastra's memory (`@mastra/pg`'s `PostgresStore`, `@mastra/libsql`'s `LibSQLStore`), as its own code
 * writes it: threads in `mastra_threads(id, resourceId, title, metadata, createdAt, updatedAt)`,
 * messages in `mastra_messages(id, thread_id, content, role, type, createdAt, resourceId)`, read in
 * `(thread_id, createdAt, id)` order:
 * - `mastra-postgres`: `postgres://user@host/db[?schema=…]` (the store's `schemaName`);
 * - `mastra-libsql`: the libSQL file, as a path or a `file:` URL.
 * A thread is a conversation (its id the conversation's; its title, metadata and resource — the
 * user — kept). A message's `content` is Mastra's stored JSON: format 2 (`{ format: 2, parts,
 * content? }`, the AI SDK's UI parts) or the older core content (a string or an array of parts).
 * Its text is its text parts joined (else `content.content`), its parts are kept as the message's
 * `parts`, its id is the external id, and the rest (`experimental_attachments`, `toolInvocations`,
 * the stored `type`) is kept in `metadata.legacy`.
 */
import type { JsonObject, NewConversation } from '../../model.js';
import { textOfParts } from '../../text.js';
import type { Row, TableLayout } from './table-rows.js';
import { parsedValue } from './values.js';

export const MASTRA_MESSAGES = 'mastra_messages';
export const MASTRA_THREADS = 'mastra_threads';

/** What both engines select besides the message: the thread's columns, and `createdAt` as text. */
function mastraLayout(createdAtText: string): TableLayout {
  return {
    defaultTable: MASTRA_MESSAGES,
    query: (tables) =>
      `SELECT m.*, ${createdAtText} AS "createdAtText", t.title AS "threadTitle", t.metadata AS "threadMetadata",
        t."resourceId" AS "threadResourceId"
       FROM ${tables.messages} m LEFT JOIN ${tables.sibling(MASTRA_THREADS)} t ON t.id = m.thread_id
       ORDER BY m.thread_id, m."createdAt", m.id`,
    conversation: (row) => String(row.thread_id ?? ''),
    attributes: threadAttributes,
    record: (row, table) => ({ key: `${table}:${String(row.id)}`, value: mastraMessage(row), rowId: String(row.id) }),
    // The thread goes with its last message.
    afterDelete: (tables, param) =>
      `DELETE FROM ${tables.sibling(MASTRA_THREADS)} WHERE id = ${param}
         AND NOT EXISTS (SELECT 1 FROM ${tables.messages} WHERE thread_id = ${param})`,
  };
}

/**
 * PostgreSQL: `createdAt` is a `timestamp` without zone holding UTC (Mastra writes ISO times into
 * it), read as text so that the client's time zone cannot shift it.
 */
export const mastraPostgresLayout = mastraLayout(`to_json(m."createdAt") #>> '{}'`);
/** libSQL keeps `createdAt` as ISO text. */
export const mastraLibsqlLayout = mastraLayout('m."createdAt"');

/** The thread a message row was joined with, as the conversation's attributes. */
function threadAttributes(row: Row): NewConversation | undefined {
  const metadata = parsedValue(row.threadMetadata);
  const attributes: NewConversation = {};
  if (typeof row.threadTitle === 'string' && row.threadTitle !== '') attributes.title = row.threadTitle;
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
    attributes.metadata = metadata as JsonObject;
  }
  const resource = row.threadResourceId ?? row.resourceId;
  if (typeof resource === 'string' && resource !== '') attributes.participants = [{ id: resource, kind: 'human' }];
  return Object.keys(attributes).length === 0 ? undefined : attributes;
}

/**
 * A message row as the fields a legacy message has: `role`, `content` (its text), `parts`, the
 * Mastra id as `messageId`, the time, the resource as sender (of a user's message) or recipient
 * (of the agent's), and what else its content held.
 */
export function mastraMessage(row: Row): unknown {
  const stored = parsedValue(row.content) ?? row.content;
  const time = row.createdAtZ ?? utc(row.createdAtText) ?? row.createdAt;
  const fields: Record<string, unknown> = {
    role: row.role,
    messageId: row.id,
    createdAt: time,
    ...(typeof row.type === 'string' ? { mastraType: row.type } : {}),
  };
  const resource = row.resourceId ?? row.threadResourceId;
  if (typeof resource === 'string' && resource !== '') {
    if (row.role === 'user') fields.senderId = resource;
    else if (row.role === 'assistant') fields.recipientId = resource;
  }
  if (typeof stored === 'string') return { ...fields, content: stored };
  if (Array.isArray(stored)) return { ...fields, content: textOfParts(stored), parts: stored };
  if (typeof stored === 'object' && stored !== null) {
    const { format, parts, content, metadata, ...rest } = stored as Record<string, unknown>;
    return {
      ...rest,
      ...fields,
      content: (Array.isArray(parts) ? textOfParts(parts) : '') || (typeof content === 'string' ? content : ''),
      ...(Array.isArray(parts) ? { parts } : {}),
      ...(typeof metadata === 'object' && metadata !== null ? { metadata } : {}),
      ...(format === undefined || format === 2 ? {} : { mastraFormat: format }),
    };
  }
  return fields;
}

/** A `timestamp` without zone, as text, read as UTC: `2026-01-01T10:00:00` → `…Z`. */
function utc(text: unknown): string | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  return /(Z|[+-]\d\d(:?\d\d)?)$/.test(text) ? text : `${text}Z`;
}
