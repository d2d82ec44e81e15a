/**
 * Layout `json-file`: one JSON file for every customer (`chat_logs.json`), an object keyed by phone
 * number whose values are message arrays or `{ messages: [...] }` (with `lastUpdated` or `updatedAt`
 * for messages that carry no time). Read as a stream: one conversation in memory at a time.
 */
import type { Readable } from 'node:stream';
import streamObject from 'stream-json/streamers/stream-object.js';
import type { SourceItem } from '../source.js';
import { conversationOf } from './values.js';

export async function* jsonFileConversations(input: Readable): AsyncIterable<SourceItem> {
  const items = input.pipe(streamObject.withParserAsStream());
  for await (const item of items as AsyncIterable<{ key: string; value: unknown }>) {
    yield conversationOf(item.key, item.key, item.value);
  }
}
