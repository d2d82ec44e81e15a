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

/** `chatstore export`: one message per line, conversation by conversation in seq order. */
export async function exportMessages(context: CommandContext, options: ExportOptions): Promise<void> {
  const out: Writable = options.out === undefined ? context.stdout : createWriteStream(options.out);
  let count = 0;
  await withStore(context, async (store) => {
    for await (const message of store.export({
      ...(options.conversation === undefined ? {} : { conversationId: options.conversation }),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.to === undefined ? {} : { to: options.to }),
      includeDeleted: options.includeDeleted === true,
    })) {
      count += 1;
      // Respect backpressure so a large export streams in constant memory.
      if (!out.write(`${JSON.stringify(message)}\n`)) await once(out, 'drain');
    }
  });
  if (out !== context.stdout) {
    out.end();
    await finished(out);
  }
  context.stderr.write(`exported ${count} messages\n`);
}
