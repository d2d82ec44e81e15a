/**
 * A migration's source opened for reading: a file (its layout named or detected from its first
 * bytes), a Redis URL (`sorted-index`, `langchain-redis`), a PostgreSQL URL (`message-log`,
 * `langchain-postgres`, `mastra-postgres`), a libSQL file (`mastra-libsql`) or a live Cloudflare KV
 * namespace (`cloudflare-kv://<account>/<namespace>`, a KV layout named), with how far the reading
 * has got, for the progress bar.
 */
import { closeSync, createReadStream, openSync, readSync, rmSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ChatStoreError } from '../errors.js';
import { jsonFileConversations } from './layouts/json-file.js';
import { kvChunkedConversations, kvMessageConversations, kvSingleConversations } from './layouts/kv.js';
import { type KvItem, kvExportEntries } from './layouts/kv-export.js';
import { cloudflareKvApi, type KvLayoutName, kvNamespaceDeleter, kvNamespaceEntries } from './layouts/kv-namespace.js';
import { langchainPostgresLayout, langchainRedisConversations, langchainRedisDeleter } from './layouts/langchain.js';
import { mastraLibsqlLayout, mastraPostgresLayout } from './layouts/mastra.js';
import { messageLogLayout } from './layouts/message-log.js';
import { pgRowDeleter, pgTableSource } from './layouts/pg-cursor.js';
import { sortedIndexFromKv, sortedIndexFromRedis, sortedIndexRedisDeleter } from './layouts/sorted-index.js';
import { sqliteRowDeleter, sqliteTableSource } from './layouts/sqlite-table.js';
import type { TableLayout } from './layouts/table-rows.js';
import { LAYOUTS, type LayoutName, type SourceDeleter, type SourceItem } from './source.js';

export interface OpenedSource {
  layout: LayoutName;
  items: AsyncIterable<SourceItem>;
  /** How much of the source has been read: bytes of a file (of its size), or null when unknown. */
  progress(): { done: number; total: number } | null;
  /** What deletes from this source what a run moved out of it (`deleteSource`). */
  deleter(): SourceDeleter;
}

/** The layouts a file holds as JSON. */
type FileLayout = Exclude<LayoutName, TableLayoutName | 'langchain-redis'>;
/** The layouts read from a table: a PostgreSQL URL's, or (`mastra-libsql`) a libSQL file's. */
type TableLayoutName = 'message-log' | 'langchain-postgres' | 'mastra-postgres' | 'mastra-libsql';
const POSTGRES_LAYOUTS: readonly LayoutName[] = ['message-log', 'langchain-postgres', 'mastra-postgres'];

const TABLE_LAYOUTS: Record<TableLayoutName, TableLayout> = {
  'message-log': messageLogLayout,
  'langchain-postgres': langchainPostgresLayout,
  'mastra-postgres': mastraPostgresLayout,
  'mastra-libsql': mastraLibsqlLayout,
};

/** The layouts of a KV namespace, from its entries in key order (an export's, or the live namespace's). */
const KV_LAYOUTS: Record<KvLayoutName, (entries: AsyncIterable<KvItem>) => AsyncIterable<SourceItem>> = {
  'kv-single': kvSingleConversations,
  'kv-chunked': kvChunkedConversations,
  'kv-message': kvMessageConversations,
  'sorted-index': sortedIndexFromKv,
};

const FILE_LAYOUTS: Record<FileLayout, (input: Readable) => AsyncIterable<SourceItem>> = {
  'json-file': jsonFileConversations,
  'kv-single': (input) => kvSingleConversations(kvExportEntries(input)),
  'kv-chunked': (input) => kvChunkedConversations(kvExportEntries(input)),
  'kv-message': (input) => kvMessageConversations(kvExportEntries(input)),
  'sorted-index': (input) => sortedIndexFromKv(kvExportEntries(input)),
};

/** `cloudflare-kv://<account id>/<namespace id>`: a live namespace, read over Cloudflare's API. */
const CLOUDFLARE_KV = /^cloudflare-kv:\/\/([^/?#]+)\/([^/?#]+)\/?$/;

/** How many bytes of a file detection reads. */
const SNIFF_BYTES = 65_536;
/** The first bytes of every SQLite (and libSQL) database file. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export function openSource(from: string, layout: string | undefined): OpenedSource {
  const named = layout === undefined ? undefined : layoutName(layout);
  if (/^postgres(ql)?:\/\//.test(from)) {
    const chosen = named ?? 'message-log';
    if (!POSTGRES_LAYOUTS.includes(chosen)) {
      throw invalid('layout', `a PostgreSQL source holds ${POSTGRES_LAYOUTS.join(', ')}, not ${chosen}`);
    }
    return tableSource(chosen as TableLayoutName, from);
  }
  if (/^(file|libsql|https?|wss?):/.test(from)) {
    if (named !== undefined && named !== 'mastra-libsql') {
      throw invalid('layout', `a libSQL database holds mastra-libsql, not ${named}`);
    }
    return tableSource('mastra-libsql', from);
  }
  if (from.startsWith('cloudflare-kv:')) return cloudflareKvSource(from, named);
  if (/^rediss?:\/\//.test(from)) {
    const chosen = named ?? 'sorted-index';
    if (chosen !== 'sorted-index' && chosen !== 'langchain-redis') {
      throw invalid('layout', `a Redis source holds sorted-index or langchain-redis, not ${chosen}`);
    }
    const redis =
      chosen === 'sorted-index'
        ? { items: sortedIndexFromRedis(from), deleter: () => sortedIndexRedisDeleter(from) }
        : { items: langchainRedisConversations(from), deleter: () => langchainRedisDeleter(from) };
    return { layout: chosen, ...redis, progress: () => null };
  }
  let size: number;
  try {
    size = statSync(from).size;
  } catch {
    throw invalid('from', `${from} is not a readable file, a postgres://, redis:// or cloudflare-kv:// URL`);
  }
  const chosen = named ?? detectLayout(from);
  if (chosen === 'mastra-libsql') return tableSource(chosen, from);
  if (!(chosen in FILE_LAYOUTS)) throw invalid('layout', `${chosen} reads a postgres:// or redis:// URL, not a file`);
  const input = createReadStream(from);
  return {
    layout: chosen,
    items: FILE_LAYOUTS[chosen as FileLayout](input),
    progress: () => ({ done: input.bytesRead, total: size }),
    deleter: () => fileDeleter(from),
  };
}

/**
 * A live KV namespace over Cloudflare's REST API: the token from `CLOUDFLARE_API_TOKEN`, the API at
 * `CLOUDFLARE_API_BASE_URL` (default Cloudflare's). KV keys say little of their layout, so it is named.
 */
function cloudflareKvSource(from: string, named: LayoutName | undefined): OpenedSource {
  const match = CLOUDFLARE_KV.exec(from);
  if (match === null) throw invalid('from', 'must be cloudflare-kv://<account id>/<namespace id>');
  if (named === undefined || !(named in KV_LAYOUTS)) {
    throw invalid('layout', `a KV namespace holds one of ${Object.keys(KV_LAYOUTS).join(', ')}: name it`);
  }
  const apiToken = process.env.CLOUDFLARE_API_TOKEN;
  if (apiToken === undefined || apiToken === '') {
    throw invalid('from', 'needs CLOUDFLARE_API_TOKEN (a token with Workers KV Storage Read) in the environment');
  }
  const baseUrl = process.env.CLOUDFLARE_API_BASE_URL;
  const namespace = cloudflareKvApi({
    accountId: decodeURIComponent(match[1] as string),
    namespaceId: decodeURIComponent(match[2] as string),
    apiToken,
    ...(baseUrl === undefined || baseUrl === '' ? {} : { baseUrl }),
  });
  const layout = named as KvLayoutName;
  return {
    layout,
    items: KV_LAYOUTS[layout](kvNamespaceEntries(namespace)),
    progress: () => null,
    deleter: () => kvNamespaceDeleter(namespace, layout),
  };
}

function tableSource(layout: TableLayoutName, from: string): OpenedSource {
  const tableLayout = TABLE_LAYOUTS[layout];
  const postgres = layout !== 'mastra-libsql';
  const table = postgres ? pgTableSource(from, tableLayout) : sqliteTableSource(from, tableLayout);
  return {
    layout,
    items: table.items,
    progress: () => ({ ...table.progress }),
    deleter: () => (postgres ? pgRowDeleter(from, tableLayout) : sqliteRowDeleter(from, tableLayout)),
  };
}

/** A file's conversations go with the file: deleted whole, once every one of them matched. */
function fileDeleter(path: string): SourceDeleter {
  return {
    async remove() {},
    async finish(whole) {
      if (whole) rmSync(path);
      return whole;
    },
  };
}

export function layoutName(value: string): LayoutName {
  if (!(LAYOUTS as readonly string[]).includes(value)) {
    throw invalid('layout', `must be one of ${LAYOUTS.join(', ')}`);
  }
  return value as LayoutName;
}

/**
 * The layout of a file from its first bytes: an SQLite database is a libSQL file (Mastra's); an
 * object is the one-file layout; an array is a KV export, whose first key says which KV layout it
 * holds.
 */
export function detectLayout(path: string): LayoutName {
  const buffer = Buffer.alloc(SNIFF_BYTES);
  const fd = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(fd, buffer, 0, SNIFF_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (buffer.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) return 'mastra-libsql';
  const head = buffer.subarray(0, length).toString('utf8').trimStart();
  if (head.startsWith('{')) return 'json-file';
  if (!head.startsWith('[')) {
    throw invalid('from', 'is neither a JSON object (one file of conversations) nor a KV export (a JSON array)');
  }
  const firstKey = /"key"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(head)?.[1];
  if (firstKey === undefined) return 'kv-single';
  if (firstKey.startsWith('chunk:') || firstKey.startsWith('metadata:')) return 'kv-chunked';
  if (firstKey.startsWith('message:')) return 'kv-message';
  if (firstKey.startsWith('chat:') || firstKey.startsWith('user:chat:')) return 'sorted-index';
  return 'kv-single';
}

function invalid(path: string, message: string): ChatStoreError {
  return new ChatStoreError('INVALID_ARGUMENT', `${path} ${message}`, { path });
}
