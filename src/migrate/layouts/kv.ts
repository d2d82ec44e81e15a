/**
 * The Cloudflare KV layouts, from a namespace's entries in key order: a bulk export (`kv-export.ts`)
 * or the live namespace (`kv-namespace.ts`):
 * - `kv-single` (`ChatService`): key = phone number, value `{ messages, lastUpdated, messageCount }`;
 * - `kv-chunked` (`ChatServiceV2`): `metadata:<phone>` and `chunk:<phone>:<n>` of 50 messages each;
 * - `kv-message`: one key per message, `message:<phone>:<timestamp>:<messageId>`.
 * A key that is not of the layout is an error of its own; the others still migrate.
 */
import type { SourceError, SourceItem, SourceRecord } from '../source.js';
import type { KvEntry, KvItem } from './kv-export.js';
import { conversationOf } from './values.js';

export async function* kvSingleConversations(entries: AsyncIterable<KvItem>): AsyncIterable<SourceItem> {
  for await (const item of entries) {
    yield item.kind === 'error' ? item : conversationOf(item.entry.key, item.entry.key, item.entry.value);
  }
}

const CHUNK = /^chunk:(.+):(\d+)$/;

export async function* kvChunkedConversations(entries: AsyncIterable<KvItem>): AsyncIterable<SourceItem> {
  yield* groupedByConversation(entries, (entry) => {
    if (entry.key.startsWith('metadata:')) return 'skip';
    const match = CHUNK.exec(entry.key);
    if (match === null) return { reason: 'not a key of this layout (metadata:<phone> or chunk:<phone>:<n>)' };
    if (!Array.isArray(entry.value)) return { reason: 'a chunk must be an array of messages' };
    return {
      conversation: match[1] as string,
      order: Number(match[2]),
      records: entry.value.map((message, index) => ({ key: `${entry.key}#${index}`, value: message })),
    };
  });
}

const MESSAGE_KEY = /^message:(.+):(\d+):([^:]+)$/;

export async function* kvMessageConversations(entries: AsyncIterable<KvItem>): AsyncIterable<SourceItem> {
  yield* groupedByConversation(entries, (entry) => {
    const match = MESSAGE_KEY.exec(entry.key);
    if (match === null) return { reason: 'not a key of this layout (message:<phone>:<timestamp>:<messageId>)' };
    return {
      conversation: match[1] as string,
      order: entry.index,
      records: [{ key: entry.key, value: entry.value, time: Number(match[2]) }],
    };
  });
}

/** What one entry holds for its conversation, where it goes among the conversation's entries, or why it is refused. */
type Placed = { conversation: string; order: number; records: SourceRecord[] } | 'skip' | { reason: string };

/**
 * Entries grouped into conversations: the entries of one conversation come together in key order
 * (they share a key prefix); a conversation ends at the first entry of another.
 */
async function* groupedByConversation(
  entries: AsyncIterable<KvItem>,
  place: (entry: KvEntry) => Placed,
): AsyncIterable<SourceItem> {
  let current: { key: string; parts: { order: number; records: SourceRecord[] }[] } | undefined;
  const flush = (): SourceItem | undefined => {
    if (current === undefined) return undefined;
    const parts = current.parts.sort((a, b) => a.order - b.order);
    const item: SourceItem = {
      kind: 'conversation',
      conversation: { key: current.key, records: parts.flatMap((part) => part.records) },
    };
    current = undefined;
    return item;
  };
  for await (const item of entries) {
    if (item.kind === 'error') {
      yield item;
      continue;
    }
    const placed = place(item.entry);
    if (placed === 'skip') continue;
    if ('reason' in placed) {
      yield { kind: 'error', error: { source: item.entry.key, reason: placed.reason } satisfies SourceError };
      continue;
    }
    if (current !== undefined && current.key !== placed.conversation) {
      const done = flush();
      if (done !== undefined) yield done;
    }
    current ??= { key: placed.conversation, parts: [] };
    current.parts.push({ order: placed.order, records: placed.records });
  }
  const last = flush();
  if (last !== undefined) yield last;
}
