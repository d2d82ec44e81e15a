/** The value shapes the legacy layouts share: a conversation held whole, and a KV value as JSON. */
import type { SourceItem, SourceRecord } from '../source.js';

/**
 * A conversation held whole: a message array, or `{ messages: [...], lastUpdated? }`. Its records
 * are keyed `<source>#<index>`.
 */
export function conversationOf(key: string, source: string, value: unknown): SourceItem {
  const holder = value as { messages?: unknown; lastUpdated?: unknown; updatedAt?: unknown } | null;
  const messages = Array.isArray(value) ? value : holder?.messages;
  if (!Array.isArray(messages)) {
    return { kind: 'error', error: { source, reason: 'expected an array of messages or { messages: [...] }' } };
  }
  const fallbackTime = holder === null || Array.isArray(value) ? undefined : (holder.lastUpdated ?? holder.updatedAt);
  return {
    kind: 'conversation',
    conversation: {
      key,
      records: messages.map((message, index): SourceRecord => ({ key: `${source}#${index}`, value: message })),
      ...(fallbackTime === undefined ? {} : { fallbackTime }),
    },
  };
}

/** A KV value as it was written: JSON text parsed, anything else as it is; undefined when the text is not JSON. */
export function parsedValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
