/**
 * A migration's source opened for reading: a file (its layout named or detected from its first
 * bytes), a Redis URL (`sorted-index`) or a PostgreSQL URL (`message-log`), with how far the
 * reading has got, for the progress bar.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ChatStoreError } from '../errors.js';
import { jsonFileConversations } from './layouts/json-file.js';
import { kvChunkedConversations, kvMessageConversations, kvSingleConversations } from './layouts/kv.js';
import { messageLogSource } from './layouts/message-log.js';
import { sortedIndexFromExport, sortedIndexFromRedis } from './layouts/sorted-index.js';
import { LAYOUTS, type LayoutName, type SourceItem } from './source.js';

export interface OpenedSource {
  layout: LayoutName;
  items: AsyncIterable<SourceItem>;
  /** How much of the source has been read: bytes of a file (of its size), or null when unknown. */
  progress(): { done: number; total: number } | null;
}

const FILE_LAYOUTS: Record<Exclude<LayoutName, 'message-log'>, (input: Readable) => AsyncIterable<SourceItem>> = {
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
    if (named !== undefined && named !== 'message-log') {
      throw invalid('layout', `a PostgreSQL source holds the message-log layout, not ${named}`);
    }
    const log = messageLogSource(from);
    return { layout: 'message-log', items: log.items, progress: () => ({ ...log.progress }) };
  }
  if (/^rediss?:\/\//.test(from)) {
    if (named !== undefined && named !== 'sorted-index') {
      throw invalid('layout', `a Redis source holds the sorted-index layout, not ${named}`);
    }
    return { layout: 'sorted-index', items: sortedIndexFromRedis(from), progress: () => null };
  }
  let size: number;
  try {
    size = statSync(from).size;
  } catch {
    throw invalid('from', `${from} is not a readable file or a redis:// URL`);
  }
  const chosen = named ?? detectLayout(from);
  if (chosen === 'message-log') throw invalid('layout', 'message-log reads a postgres:// URL, not a file');
  const input = createReadStream(from);
  return {
    layout: chosen,
    items: FILE_LAYOUTS[chosen](input),
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
