/**
 * Layout `message-log`: the old PostgreSQL message log of BuilderBot bots, a table
 * `messages(id uuid, message_id, context_id, context_type, direction, sender, recipient, content,
 * media_url, media_type, media_content_type, media_size, status, error_message, metadata jsonb,
 * created_at, delivered_at, read_at, reply_to_message_id, is_bot_command, is_admin_command,
 * command_name, deleted_at, is_deleted)`, read in `(context_id, created_at, id)` order from any
 * database: `postgres://user@host/db?table=messages&schema=public`. A row is read as it is: its
 * columns are the fields `legacy-message.ts` knows.
 */
import type { TableLayout } from './table-rows.js';

export const messageLogLayout: TableLayout = {
  defaultTable: 'messages',
  query: (tables) => `SELECT * FROM ${tables.messages} ORDER BY context_id, created_at, id`,
  conversation: (row) => String(row.context_id ?? ''),
  attributes: (row) => (typeof row.context_type === 'string' ? { type: row.context_type } : undefined),
  record: (row, table) => ({ key: `${table}:${String(row.id)}`, value: row, rowId: String(row.id) }),
};
