import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type CommandContext, withStore } from './context.js';

export interface ExportOptions {
  conversation?: string;
  out?: string;
  from?: string;
  to?: string;
  includeDeleted?: boolean;
}

/**
 * `chatstore export`: JSON Lines, conversation by conversation: its record (`{"conversation": …}`),
 * then its messages in seq order (`ChatStore.exportRecords`, the lines `GET /v1/export` writes too).
 */
export async function exportMessages(context: CommandContext, options: ExportOptions): Promise<void> {
  const out: Writable = options.out === undefined ? context.stdout : createWriteStream(options.out);
  const count = { conversations: 0, messages: 0 };
  await withStore(context, async (store) => {
    for await (const record of store.exportRecords({
      ...(options.conversation === undefined ? {} : { conversationId: options.conversation }),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.to === undefined ? {} : { to: options.to }),
      includeDeleted: options.includeDeleted === true,
    })) {
      count['conversation' in record ? 'conversations' : 'messages'] += 1;
      // Respect backpressure so a large export streams in constant memory.
      if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
    }
  });
  if (out !== context.stdout) {
    out.end();
    await finished(out);
  }
  context.stderr.write(`exported ${count.messages} messages, ${count.conversations} conversation records\n`);
}
