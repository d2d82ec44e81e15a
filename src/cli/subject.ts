import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type CommandContext, withStore } from './context.js';

export interface SubjectExportOptions {
  out?: string;
}

/**
 * `chatstore subject export <subjectId> [-o file]`: GDPR access, the mirror of `chatstore erase`:
 * everything an erasure of the person would remove, as JSON Lines (`ChatStore.exportSubject`, the
 * lines `GET /v1/subjects/{id}/export` writes too). The counts go to stderr.
 */
export async function exportSubject(
  context: CommandContext,
  subjectId: string,
  options: SubjectExportOptions,
): Promise<void> {
  const count = { conversations: 0, messages: 0 };
  let out: Writable | undefined;
  await withStore(context, async (store) => {
    for await (const record of store.exportSubject(subjectId)) {
      // The file is created only once the first record is known, so a bad id or an unreachable
      // engine leaves no empty export behind that could pass for an answer.
      out ??= options.out === undefined ? context.stdout : createWriteStream(options.out);
      if ('conversation' in record) count.conversations += 1;
      else if (!('subject' in record)) count.messages += 1;
      // Respect backpressure so a large export streams in constant memory.
      if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
    }
  });
  if (out !== undefined && out !== context.stdout) {
    out.end();
    await finished(out);
  }
  context.stderr.write(
    `exported ${count.messages} messages, ${count.conversations} conversation records about ${subjectId}\n`,
  );
}
