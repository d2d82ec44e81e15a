/**
 * A Cloudflare KV namespace as its bulk export tooling writes it: a JSON array of
 * `{ key, value, metadata?, expiration?, base64? }`, read as a stream. Exports list keys in KV's
 * order (sorted by their bytes), so the keys that share a prefix (one conversation's chunks or
 * messages) come together; the layouts rely on that to hold one conversation at a time.
 */
import type { Readable } from 'node:stream';
import streamArray from 'stream-json/streamers/stream-array.js';
import type { SourceError } from '../source.js';
import { parsedValue } from './values.js';

/** One key of the export, its value parsed (JSON text as JSON). */
export interface KvEntry {
  key: string;
  value: unknown;
  /** The entry's place in the export, from 0. */
  index: number;
}

export type KvItem = { kind: 'entry'; entry: KvEntry } | { kind: 'error'; error: SourceError };

export async function* kvExportEntries(input: Readable): AsyncIterable<KvItem> {
  const items = input.pipe(streamArray.withParserAsStream());
  for await (const { key: index, value } of items as AsyncIterable<{ key: number; value: unknown }>) {
    const entry = value as { key?: unknown; value?: unknown; base64?: unknown } | null;
    if (typeof entry !== 'object' || entry === null || typeof entry.key !== 'string') {
      yield { kind: 'error', error: { source: `entry ${index}`, reason: 'expected { key, value }' } };
      continue;
    }
    const text =
      entry.base64 === true && typeof entry.value === 'string'
        ? Buffer.from(entry.value, 'base64').toString('utf8')
        : entry.value;
    const parsed = parsedValue(text);
    if (parsed === undefined) {
      yield { kind: 'error', error: { source: entry.key, reason: 'the value is not JSON' } };
      continue;
    }
    yield { kind: 'entry', entry: { key: entry.key, value: parsed, index } };
  }
}
