/**
 * Legacy tables read from PostgreSQL (any database, through `pg`): one read-only snapshot
 * (`REPEATABLE READ`), one server-side cursor over the layout's query, 5,000 rows a fetch, the next
 * fetched while the run writes the last. A table still written to during the run is read as it was
 * when the run began.
 * `postgres://user@host/db?table=messages&schema=public`.
 */
import type { SourceConversation, SourceDeleter, SourceItem } from '../source.js';
import { groupedRows, quoted, type Row, type RowProgress, type TableLayout, type TableNames } from './table-rows.js';

const FETCH = 5000;

export interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
  end(): Promise<void>;
}

/** A PostgreSQL source URL as the connection, the schema and the messages table it names. */
export interface PgSource {
  connectionString: string;
  schema: string;
  table: string;
  names: TableNames;
}

export function pgSource(source: string, defaultTable: string): PgSource {
  const url = new URL(source);
  const table = url.searchParams.get('table') ?? defaultTable;
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('table');
  url.searchParams.delete('schema');
  url.searchParams.delete('layout');
  const sibling = (name: string) => `${quoted(schema)}.${quoted(name)}`;
  return { connectionString: url.toString(), schema, table, names: { messages: sibling(table), sibling } };
}

export async function pgClient(source: PgSource): Promise<PgClient> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: source.connectionString });
  const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (text: string) => unknown;
  client.setTypeParser(TIMESTAMPTZ, 'text', (text: string) => utcTimeText(text, parseTimestamptz));
  await client.connect();
  return client as unknown as PgClient;
}

/** The oid of `timestamptz`. */
const TIMESTAMPTZ = 1184;
/** A `timestamptz` as PostgreSQL writes it in a UTC session (`pages` sets one): `2026-01-05 10:22:33.123456+00`. */
const UTC_TEXT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?\+00$/;

/**
 * A `timestamptz` read as the store's time text (`YYYY-MM-DDTHH:mm:ss.sssZ`) by string operations,
 * where pg would build a `Date` that the run then spells out and parses again. The milliseconds are
 * pg's, to the bit (`1000 × parseFloat(fraction)`, truncated as `Date.UTC` truncates), so the times,
 * and the ids made from them, are those a run reading Dates gave. Any other text (another zone,
 * `infinity`, a BC date) goes through pg's parser, a Date spelled out.
 */
export function utcTimeText(text: string, parse: (text: string) => unknown): unknown {
  const match = UTC_TEXT.exec(text);
  if (match === null) {
    const parsed = parse(text);
    return parsed instanceof Date && Number.isFinite(parsed.getTime()) ? parsed.toISOString() : parsed;
  }
  const ms = match[3] === undefined ? 0 : Math.trunc(1000 * Number.parseFloat(match[3]));
  return `${match[1]}T${match[2]}.${String(ms).padStart(3, '0')}Z`;
}

export function pgTableSource(
  source: string,
  layout: TableLayout,
): { items: AsyncIterable<SourceItem>; progress: RowProgress } {
  const progress: RowProgress = { done: 0, total: 0 };
  const opened = pgSource(source, layout.defaultTable);
  return { items: groupedRows(pages(opened, layout, progress), layout, opened.table, progress), progress };
}

async function* pages(source: PgSource, layout: TableLayout, progress: RowProgress): AsyncIterable<Row[]> {
  const client = await pgClient(source);
  let pending: Promise<{ rows: Row[] }> | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // timestamptz text in UTC: `utcTimeText` reads it without building a Date.
    await client.query("SET LOCAL TIME ZONE 'UTC'");
    progress.total = Number((await client.query(`SELECT count(*) AS n FROM ${source.names.messages}`)).rows[0]?.n ?? 0);
    await client.query(`DECLARE chatstore_migration NO SCROLL CURSOR FOR ${layout.query(source.names)}`);
    const fetch = () => client.query(`FETCH ${FETCH} FROM chatstore_migration`);
    // The next page is fetched while the consumer writes this one: the server reads as the store writes.
    let next: Promise<{ rows: Row[] }> = fetch();
    pending = next;
    for (;;) {
      const { rows }: { rows: Row[] } = await next;
      const more: boolean = rows.length === FETCH;
      pending = undefined;
      if (more) {
        next = fetch();
        pending = next;
      }
      yield rows;
      if (!more) break;
    }
    await client.query('COMMIT');
  } finally {
    // A consumer that stopped early leaves a fetch in flight: let it end before the connection does.
    await pending?.catch(() => undefined);
    await client.end();
  }
}

/**
 * Deletes a conversation's rows by their `id` (the rows this pass read, not rows written since),
 * then what `afterDelete` says, in one transaction.
 */
export function pgRowDeleter(source: string, layout: TableLayout): SourceDeleter {
  const opened = pgSource(source, layout.defaultTable);
  let connection: Promise<{ client: PgClient; idType: string }> | undefined;
  const connect = async () => {
    const client = await pgClient(opened);
    const { rows } = await client.query(
      "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'id'",
      [opened.names.messages],
    );
    return { client, idType: String(rows[0]?.type ?? 'text') };
  };
  return {
    async remove(conversation: SourceConversation): Promise<void> {
      connection ??= connect();
      const { client, idType } = await connection;
      const ids = conversation.records.flatMap((record) => (record.rowId === undefined ? [] : [record.rowId]));
      await client.query('BEGIN');
      try {
        await client.query(`DELETE FROM ${opened.names.messages} WHERE id = ANY($1::${idType}[])`, [ids]);
        if (layout.afterDelete !== undefined)
          await client.query(layout.afterDelete(opened.names, '$1'), [conversation.key]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
    async finish(): Promise<boolean> {
      if (connection !== undefined) await (await connection).client.end();
      return true;
    },
  };
}
