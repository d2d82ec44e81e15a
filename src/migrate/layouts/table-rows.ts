/**
 * Legacy tables, read from PostgreSQL (`pg-cursor.ts`) or from a libSQL/SQLite file
 * (`sqlite-table.ts`): each layout says how to select its rows in conversation order and what a row
 * is; the rows are grouped into conversations as they come, so one conversation is in memory at a
 * time.
 */
import type { NewConversation } from '../../model.js';
import type { SourceItem, SourceRecord } from '../source.js';

export type Row = Record<string, unknown>;

/** How far the reading has got: rows read of the rows the table holds. */
export interface RowProgress {
  done: number;
  total: number;
}

/** The tables a query names, quoted and qualified by the source's schema. */
export interface TableNames {
  /** The layout's table of messages (`?table=`, else its default). */
  messages: string;
  /** Another table of the same schema. */
  sibling(name: string): string;
}

/** What one layout reads of its table. */
export interface TableLayout {
  /** The table when the URL names none (`?table=`). */
  defaultTable: string;
  /** The SELECT that reads every message row, ordered by conversation first. */
  query(tables: TableNames): string;
  /** The conversation a row belongs to. */
  conversation(row: Row): string;
  /** What the row says of its conversation (its type, a thread's title), taken from its first row. */
  attributes?(row: Row): NewConversation | undefined;
  /** The record a row is (its key unique in the source, its `rowId` the row's `id`). */
  record(row: Row, table: string): SourceRecord;
  /**
   * SQL to run once a conversation's rows are deleted (`deleteSource`), its key as `param` (`$1`;
   * `@key` in SQLite): what else the layout keeps of a conversation, such as Mastra's thread.
   */
  afterDelete?(tables: TableNames, param: string): string;
}

/** Rows in conversation order as the conversations they make. */
export async function* groupedRows(
  rows: AsyncIterable<Row[]>,
  layout: TableLayout,
  table: string,
  progress: RowProgress,
): AsyncIterable<SourceItem> {
  let current: { key: string; attributes: NewConversation | undefined; records: SourceRecord[] } | undefined;
  for await (const page of rows) {
    for (const raw of page) {
      progress.done += 1;
      const row = plain(raw);
      const key = layout.conversation(row);
      if (current !== undefined && current.key !== key) {
        yield conversation(current);
        current = undefined;
      }
      current ??= { key, attributes: layout.attributes?.(row), records: [] };
      current.records.push(layout.record(row, table));
    }
  }
  if (current !== undefined) yield conversation(current);
}

function conversation(group: {
  key: string;
  attributes: NewConversation | undefined;
  records: SourceRecord[];
}): SourceItem {
  return {
    kind: 'conversation',
    conversation: {
      key: group.key,
      records: group.records,
      ...(group.attributes === undefined ? {} : { attributes: group.attributes }),
    },
  };
}

/** A row as JSON values: times as ISO strings, the rest as the driver read it (the row itself when it holds no Date). */
function plain(row: Row): Row {
  let out: Row | undefined;
  for (const name in row) {
    const value = row[name];
    if (value instanceof Date) {
      out ??= { ...row };
      out[name] = value.toISOString();
    }
  }
  return out ?? row;
}

/** An SQL identifier, quoted (PostgreSQL and SQLite alike). */
export function quoted(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
