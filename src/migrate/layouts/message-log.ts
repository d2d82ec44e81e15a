/**
 * Layout `message-log`: the old PostgreSQL message log of BuilderBot bots, a table
 * `messages(id uuid, message_id, context_id, context_type, direction, sender, recipient, content,
 * media_url, media_type, media_content_type, media_size, status, error_message, metadata jsonb,
 * created_at, delivered_at, read_at, reply_to_message_id, is_bot_command, is_admin_command,
 * command_name, deleted_at, is_deleted)`, read through `pg` from any database:
 * `postgres://user@host/db?table=messages&schema=public`. One read-only snapshot, one cursor in
 * `(context_id, created_at, id)` order fetched 5,000 rows at a time: one conversation is in memory
 * at a time, and a log written to during the run is read as it was when the run began.
 */
import type { SourceItem, SourceRecord } from '../source.js';

const FETCH = 5000;

/** How far the reading has got: rows read of the rows the snapshot holds. */
export interface LogProgress {
  done: number;
  total: number;
}

interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

export function messageLogSource(source: string): { items: AsyncIterable<SourceItem>; progress: LogProgress } {
  const progress: LogProgress = { done: 0, total: 0 };
  return { items: read(source, progress), progress };
}

async function* read(source: string, progress: LogProgress): AsyncIterable<SourceItem> {
  const url = new URL(source);
  const table = url.searchParams.get('table') ?? 'messages';
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('table');
  url.searchParams.delete('schema');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url.toString() }) as unknown as PgClient;
  await client.connect();
  const relation = `${quoted(schema)}.${quoted(table)}`;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    progress.total = Number((await client.query(`SELECT count(*) AS n FROM ${relation}`)).rows[0]?.n ?? 0);
    await client.query(
      `DECLARE chatstore_migration NO SCROLL CURSOR FOR SELECT * FROM ${relation} ORDER BY context_id, created_at, id`,
    );
    let current: { key: string; type: string | undefined; records: SourceRecord[] } | undefined;
    for (;;) {
      const { rows } = await client.query(`FETCH ${FETCH} FROM chatstore_migration`);
      for (const row of rows) {
        progress.done += 1;
        const key = String(row.context_id ?? '');
        if (current !== undefined && current.key !== key) {
          yield conversation(current);
          current = undefined;
        }
        current ??= { key, type: typeof row.context_type === 'string' ? row.context_type : undefined, records: [] };
        current.records.push({ key: `${table}:${String(row.id)}`, value: plain(row) });
      }
      if (rows.length < FETCH) break;
    }
    if (current !== undefined) yield conversation(current);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

function conversation(group: { key: string; type: string | undefined; records: SourceRecord[] }): SourceItem {
  return {
    kind: 'conversation',
    conversation: { key: group.key, records: group.records, ...(group.type === undefined ? {} : { type: group.type }) },
  };
}

/** A row as JSON values: times as ISO strings, the rest as `pg` read it. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) out[name] = value instanceof Date ? value.toISOString() : value;
  return out;
}

function quoted(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
