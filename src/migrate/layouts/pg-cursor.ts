/**
 * Legacy tables read from PostgreSQL (any database, through `pg`): one read-only snapshot
 * (`REPEATABLE READ`), one server-side cursor in the table's conversation order, 5,000 rows a fetch,
 * rows grouped into conversations as they come. A table still written to during the run is read as
 * it was when the run began, and one conversation is in memory at a time.
 */
import type { SourceItem, SourceRecord } from '../source.js';

const FETCH = 5000;

/** How far the reading has got: rows read of the rows the snapshot holds. */
export interface RowProgress {
  done: number;
  total: number;
}

/** What one layout reads of its table. */
export interface TableLayout {
  /** The table when the URL names none (`?table=`). */
  defaultTable: string;
  /** SQL: the columns the rows are read in order of, the conversation's first. */
  orderBy: string;
  /** The conversation a row belongs to. */
  conversation(row: Record<string, unknown>): string;
  /** The conversation's type, when the table has one. */
  type?(row: Record<string, unknown>): string | undefined;
  /** The record a row is (its key unique in the table). */
  record(row: Record<string, unknown>, table: string): SourceRecord;
}

interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

export function pgTableSource(
  source: string,
  layout: TableLayout,
): { items: AsyncIterable<SourceItem>; progress: RowProgress } {
  const progress: RowProgress = { done: 0, total: 0 };
  return { items: read(source, layout, progress), progress };
}

async function* read(source: string, layout: TableLayout, progress: RowProgress): AsyncIterable<SourceItem> {
  const url = new URL(source);
  const table = url.searchParams.get('table') ?? layout.defaultTable;
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
      `DECLARE chatstore_migration NO SCROLL CURSOR FOR SELECT * FROM ${relation} ORDER BY ${layout.orderBy}`,
    );
    let current: { key: string; type: string | undefined; records: SourceRecord[] } | undefined;
    for (;;) {
      const { rows } = await client.query(`FETCH ${FETCH} FROM chatstore_migration`);
      for (const row of rows) {
        progress.done += 1;
        const key = layout.conversation(row);
        if (current !== undefined && current.key !== key) {
          yield conversation(current);
          current = undefined;
        }
        current ??= { key, type: layout.type?.(row), records: [] };
        current.records.push(layout.record(plain(row), table));
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
