import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ChatStoreError } from '../errors.js';
import type { NewMessage } from '../model.js';
import type { ChatStore } from '../store.js';
import { type CommandContext, withStore } from './context.js';

export interface ImportOptions {
  conversation?: string;
  batch?: string;
}

/** Fields the store assigns (or that describe stored state): dropped from imported lines. */
const STORE_FIELDS = ['conversationId', 'seq', 'editedAt'] as const;

/**
 * `chatstore import [file]`: appends JSON Lines (as `chatstore export` writes them) in batches per
 * conversation. Re-running an import is safe: messages already stored come back as duplicates.
 */
export async function importMessages(
  context: CommandContext,
  file: string | undefined,
  options: ImportOptions,
): Promise<void> {
  const batchSize = Number(options.batch ?? '500');
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ChatStoreError('INVALID_ARGUMENT', '--batch must be a positive integer', { path: 'batch' });
  }
  const input: Readable = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  const totals = { stored: 0, duplicates: 0, deleted: 0, lines: 0 };
  await withStore(context, async (store) => {
    let pending: { conversationId: string; messages: NewMessage[]; lines: number[] } | undefined;
    const flush = async () => {
      if (pending === undefined) return;
      const results = await appendAt(store, pending.conversationId, pending.messages, pending.lines);
      for (const result of results) totals[result.duplicate ? 'duplicates' : 'stored'] += 1;
      pending = undefined;
    };
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      totals.lines += 1;
      if (line.trim() === '') continue;
      const { conversationId, message, deleted } = parseLine(line, totals.lines, options.conversation);
      if (deleted) {
        // A soft-deleted message must not come back to life in the target store.
        totals.deleted += 1;
        continue;
      }
      if (
        pending !== undefined &&
        (pending.conversationId !== conversationId || pending.messages.length >= batchSize)
      ) {
        await flush();
      }
      pending ??= { conversationId, messages: [], lines: [] };
      pending.messages.push(message);
      pending.lines.push(totals.lines);
    }
    await flush();
  });
  context.stderr.write(
    `imported ${totals.stored} messages, ${totals.duplicates} duplicates skipped, ${totals.deleted} deleted skipped\n`,
  );
}

function parseLine(
  line: string,
  lineNumber: number,
  fallbackConversation: string | undefined,
): { conversationId: string; message: NewMessage; deleted: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new ChatStoreError('INVALID_ARGUMENT', `line ${lineNumber} is not JSON`, {
      path: `line ${lineNumber}`,
      cause,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `line ${lineNumber} is not a JSON object`, {
      path: `line ${lineNumber}`,
    });
  }
  const record = { ...(value as Record<string, unknown>) };
  const conversationId = typeof record.conversationId === 'string' ? record.conversationId : fallbackConversation;
  if (conversationId === undefined) {
    throw new ChatStoreError('INVALID_ARGUMENT', `line ${lineNumber} has no conversationId (use --conversation)`, {
      path: `line ${lineNumber}`,
    });
  }
  const deleted = record.deletedAt !== undefined;
  delete record.deletedAt;
  for (const field of STORE_FIELDS) delete record[field];
  return { conversationId, message: record as NewMessage, deleted };
}

async function appendAt(store: ChatStore, conversationId: string, messages: NewMessage[], lines: number[]) {
  try {
    return await store.append(conversationId, messages);
  } catch (error) {
    if (error instanceof ChatStoreError && error.code === 'INVALID_ARGUMENT' && error.path !== undefined) {
      const index = /^messages\[(\d+)\]/.exec(error.path)?.[1];
      const line = lines[Number(index ?? 0)] ?? lines[0];
      throw new ChatStoreError('INVALID_ARGUMENT', `line ${line}: ${error.message}`, {
        path: error.path,
        cause: error,
      });
    }
    throw error;
  }
}
