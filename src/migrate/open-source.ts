/**
 * A migration's source opened for reading: a file (its layout named or detected from its first
 * bytes), a Redis URL (`sorted-index`, `langchain-redis`) or a PostgreSQL URL (`message-log`,
 * `langchain-postgres`), with how far the reading has got, for the progress bar.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ChatStoreError } from '../errors.js';
import { jsonFileConversations } from './layouts/json-file.js';
import { kvChunkedConversations, kvMessageConversations, kvSingleConversations } from './layouts/kv.js';
import { langchainPostgresSource, langchainRedisConversations } from './layouts/langchain.js';
import { messageLogSource } from './layouts/message-log.js';
import { sortedIndexFromExport, sortedIndexFromRedis } from './layouts/sorted-index.js';
import { LAYOUTS, type LayoutName, type SourceItem } from './source.js';

export interface OpenedSource {
  layout: LayoutName;
  items: AsyncIterable<SourceItem>;
  /** How much of the source has been read: bytes of a file (of its size), or null when unknown. */
  progress(): { done: number; total: number } | null;
}

type FileLayout = Exclude<LayoutName, 'message-log' | 'langchain-postgres' | 'langchain-redis'>;

const FILE_LAYOUTS: Record<FileLayout, (input: Readable) => AsyncIterable<SourceItem>> = {
  'json-file': jsonFileConversations,
  'kv-single': kvSingleConversations,
  'kv-chunked': kvChunkedConversations,
  'kv-message': kvMessageConversations,
  'sorted-index': sortedIndexFromExport,
};

/** How many bytes of a file detection reads. */
const SNIFF_BYTES = 65_536;

export function openSource(from: string, layout: string | undefined): OpenedSource {
  const named = layout === undefined ? undefined : layoutName(layout);
  if (/^postgres(ql)?:\/\//.test(from)) {
    const chosen = named ?? 'message-log';
    if (chosen !== 'message-log' && chosen !== 'langchain-postgres') {
      throw invalid('layout', `a PostgreSQL source holds message-log or langchain-postgres, not ${chosen}`);
    }
    const table = chosen === 'message-log' ? messageLogSource(from) : langchainPostgresSource(from);
    return { layout: chosen, items: table.items, progress: () => ({ ...table.progress }) };
  }
  if (/^rediss?:\/\//.test(from)) {
    const chosen = named ?? 'sorted-index';
    if (chosen !== 'sorted-index' && chosen !== 'langchain-redis') {
      throw invalid('layout', `a Redis source holds sorted-index or langchain-redis, not ${chosen}`);
    }
    const items = chosen === 'sorted-index' ? sortedIndexFromRedis(from) : langchainRedisConversations(from);
    return { layout: chosen, items, progress: () => null };
  }
  let size: number;
  try {
    size = statSync(from).size;
  } catch {
    throw invalid('from', `${from} is not a readable file or a redis:// URL`);
  }
  const chosen = named ?? detectLayout(from);
  if (!(chosen in FILE_LAYOUTS)) throw invalid('layout', `${chosen} reads a postgres:// or redis:// URL, not a file`);
  const input = createReadStream(from);
  return {
    layout: chosen,
    items: FILE_LAYOUTS[chosen as FileLayout](input),
    progress: () => ({ done: input.bytesRead, total: size }),
  };
}

export function layoutName(value: string): LayoutName {
  if (!(LAYOUTS as readonly string[]).includes(value)) {
    throw invalid('layout', `must be one of ${LAYOUTS.join(', ')}`);
  }
  return value as LayoutName;
}

/**
 * The layout of a file from its first bytes: an object is the one-file layout; an array is a KV
 * export, whose first key says which KV layout it holds.
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
