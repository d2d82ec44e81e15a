/**
 * Legacy tables read from a libSQL or SQLite file (Mastra's `LibSQLStore` writes one) through
 * better-sqlite3: opened read-only, one read transaction (a snapshot, in WAL mode, of the file as the
 * run began), the layout's query stepped row by row, 5,000 rows a page.
 * The file is a path or a libSQL `file:` URL.
 */
import { ChatStoreError } from '../../errors.js';
import type { SourceConversation, SourceDeleter, SourceItem } from '../source.js';
import { groupedRows, quoted, type Row, type RowProgress, type TableLayout, type TableNames } from './table-rows.js';

const PAGE = 5000;

/** The part of a better-sqlite3 database this layout uses. */
export interface SqliteDatabase {
  prepare(sql: string): {
    iterate(...values: unknown[]): IterableIterator<Row>;
    get(...values: unknown[]): Row | undefined;
    run(...values: unknown[]): unknown;
  };
  exec(sql: string): unknown;
  close(): unknown;
}

/** The file a libSQL URL or path names. */
export function sqliteFilePath(source: string): string {
  if (/^(libsql|https?|wss?):\/\//.test(source)) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `from ${source} is a remote libSQL database: migrate from a local copy of its file (a file: URL or a path)`,
      { path: 'from' },
    );
  }
  return source.startsWith('file:')
    ? decodeURIComponent(source.slice('file:'.length).replace(/^\/\/(?=\/)/, ''))
    : source;
}

/** The file opened, and its messages table there: anything else is a clear error. */
export async function openSqliteFile(path: string, table: string, readonly: boolean): Promise<SqliteDatabase> {
  const { default: Database } = await import('better-sqlite3');
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(path, { readonly, fileMustExist: true }) as unknown as SqliteDatabase;
    if (db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) === undefined) {
      throw new Error(`it has no table ${table}`);
    }
    return db;
  } catch (error) {
    db?.close();
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `from ${path} is not a libSQL database of this layout: ${(error as Error).message}`,
      { path: 'from' },
    );
  }
}

export const SQLITE_NAMES = (table: string): TableNames => ({ messages: quoted(table), sibling: quoted });

export function sqliteTableSource(
  source: string,
  layout: TableLayout,
): { items: AsyncIterable<SourceItem>; progress: RowProgress } {
  const progress: RowProgress = { done: 0, total: 0 };
  return {
    items: groupedRows(pages(sqliteFilePath(source), layout, progress), layout, layout.defaultTable, progress),
    progress,
  };
}

async function* pages(path: string, layout: TableLayout, progress: RowProgress): AsyncIterable<Row[]> {
  const db = await openSqliteFile(path, layout.defaultTable, true);
  const names = SQLITE_NAMES(layout.defaultTable);
  try {
    db.exec('BEGIN');
    progress.total = Number(db.prepare(`SELECT count(*) AS n FROM ${names.messages}`).get()?.n ?? 0);
    let page: Row[] = [];
    for (const row of db.prepare(layout.query(names)).iterate()) {
      page.push(row);
      if (page.length === PAGE) {
        yield page;
        page = [];
      }
    }
    yield page;
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

/**
 * Deletes the matched conversations' rows once the pass has read the whole file (its read
 * transaction would keep a rollback-journal file from being written while it lasts), in one
 * transaction, 500 ids a statement.
 */
export function sqliteRowDeleter(source: string, layout: TableLayout): SourceDeleter {
  const path = sqliteFilePath(source);
  const matched: { key: string; ids: string[] }[] = [];
  return {
    async remove(conversation: SourceConversation): Promise<void> {
      matched.push({
        key: conversation.key,
        ids: conversation.records.flatMap((record) => (record.rowId === undefined ? [] : [record.rowId])),
      });
    },
    async finish(): Promise<boolean> {
      if (matched.length === 0) return true;
      const db = await openSqliteFile(path, layout.defaultTable, false);
      const names = SQLITE_NAMES(layout.defaultTable);
      try {
        db.exec('BEGIN IMMEDIATE');
        for (const { key, ids } of matched) {
          for (let start = 0; start < ids.length; start += DELETE_BATCH) {
            const batch = ids.slice(start, start + DELETE_BATCH);
            db.prepare(`DELETE FROM ${names.messages} WHERE id IN (${batch.map(() => '?').join(', ')})`).run(...batch);
          }
          if (layout.afterDelete !== undefined) db.prepare(layout.afterDelete(names, '@key')).run({ key });
        }
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      } finally {
        db.close();
      }
      return true;
    },
  };
}

const DELETE_BATCH = 500;
