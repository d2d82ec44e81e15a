import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ChatStoreError } from '../errors.js';
import type { AppendResult, Conversation, Message, NewMessage } from '../model.js';
import type { ChatStore } from '../store.js';
import { type CommandContext, withStore } from './context.js';

export interface ImportOptions {
  conversation?: string;
  batch?: string;
}

/** Fields the store assigns (or that describe stored state): dropped from lines appended anew. */
const STORE_FIELDS = ['conversationId', 'seq', 'editedAt'] as const;

/** One line of the input, parsed. */
type Line =
  | { kind: 'conversation'; conversation: Conversation }
  | { kind: 'stored'; conversationId: string; message: Message }
  | { kind: 'new'; conversationId: string; message: NewMessage; deleted: boolean };

/** The lines of one conversation read so far: its record, and the batch not yet sent. */
interface Group {
  conversationId: string;
  conversation?: Conversation;
  conversationLine?: number;
  /** The record went to the store with an earlier batch. */
  conversationSent: boolean;
  kind?: 'stored' | 'new';
  messages: (Message | NewMessage)[];
  lines: number[];
}

interface Totals {
  stored: number;
  duplicates: number;
  deleted: number;
  conversations: number;
  lines: number;
}

/**
 * `chatstore import [file]`: JSON Lines as `chatstore export` writes them, in batches per conversation.
 * A conversation line and the message lines with a `seq` (stored messages) are restored exactly
 * (`ChatStore.restore`); message lines without a `seq` (written by hand) are appended, as new
 * messages. Each batch is atomic. Re-running an import is safe: what is stored already comes back
 * as duplicates, so a run stopped by a bad line resumes once the line is fixed.
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
  const totals: Totals = { stored: 0, duplicates: 0, deleted: 0, conversations: 0, lines: 0 };
  await withStore(context, async (store) => {
    const importer = new Importer(store, batchSize, totals);
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      totals.lines += 1;
      if (text.trim() === '') continue;
      await importer.add(parseLine(text, totals.lines, options.conversation), totals.lines);
    }
    await importer.end();
  });
  context.stderr.write(
    `imported ${totals.stored} messages, ${totals.duplicates} duplicates skipped, ${totals.deleted} deleted skipped, ${totals.conversations} conversation records\n`,
  );
}

/**
 * Groups lines by conversation into batches. A batch goes to the store when the next line needs
 * another one (another conversation, another kind of line, a full batch), so the last batch of a
 * conversation is known to be the last: only it applies the record's `lastSeq`.
 */
class Importer {
  #group: Group | undefined;

  constructor(
    readonly store: ChatStore,
    readonly batchSize: number,
    readonly totals: Totals,
  ) {}

  async add(line: Line, lineNumber: number): Promise<void> {
    if (line.kind === 'conversation') {
      await this.end();
      this.totals.conversations += 1;
      this.#group = {
        conversationId: line.conversation.id,
        conversation: line.conversation,
        conversationLine: lineNumber,
        conversationSent: false,
        messages: [],
        lines: [],
      };
      return;
    }
    if (line.kind === 'new' && line.deleted) {
      // A soft-deleted message written by hand (no seq) must not come back to life as a new one.
      this.totals.deleted += 1;
      return;
    }
    if (this.#group !== undefined && this.#group.conversationId !== line.conversationId) await this.end();
    this.#group ??= { conversationId: line.conversationId, conversationSent: false, messages: [], lines: [] };
    const group = this.#group;
    if (group.messages.length > 0 && (group.kind !== line.kind || group.messages.length >= this.batchSize)) {
      await this.#flush(group, false);
    }
    group.kind = line.kind;
    group.messages.push(line.message);
    group.lines.push(lineNumber);
  }

  /** Sends what is left of the current conversation. */
  async end(): Promise<void> {
    const group = this.#group;
    if (group === undefined) return;
    this.#group = undefined;
    await this.#flush(group, true);
    // A conversation without messages (or with only appended ones, sent after it) is restored alone.
    if (group.conversation !== undefined && !group.conversationSent) await this.#restoreRecord(group);
  }

  async #flush(group: Group, last: boolean): Promise<void> {
    if (group.messages.length === 0) return;
    const { messages, lines } = group;
    group.messages = [];
    group.lines = [];
    let results: AppendResult[];
    if (group.kind === 'stored') {
      const conversation = group.conversation;
      results = await this.#naming(group, lines, () =>
        this.store.restore(group.conversationId, messages as Message[], {
          ...(conversation === undefined ? {} : { conversation }),
          ...(last ? {} : { more: true }),
        }),
      );
      group.conversationSent = true;
    } else {
      if (group.conversation !== undefined && !group.conversationSent) await this.#restoreRecord(group);
      results = await this.#naming(group, lines, () =>
        this.store.append(group.conversationId, messages as NewMessage[]),
      );
    }
    for (const result of results) this.totals[result.duplicate ? 'duplicates' : 'stored'] += 1;
  }

  async #restoreRecord(group: Group): Promise<void> {
    const conversation = group.conversation as Conversation;
    await this.#naming(group, [], () => this.store.restore(group.conversationId, [], { conversation }));
    group.conversationSent = true;
  }

  /** Runs one store call; its errors name the input line they come from. */
  async #naming<T>(group: Group, lines: number[], call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ChatStoreError)) throw error;
      const path = error.path ?? '';
      const index = /^messages\[(\d+)\]/.exec(path)?.[1];
      let where: string | undefined;
      if (index !== undefined) where = `line ${lines[Number(index)]}`;
      else if (path.startsWith('conversation') && group.conversationLine !== undefined) {
        where = `line ${group.conversationLine}`;
      } else if (lines.length > 0) {
        where = lines.length === 1 ? `line ${lines[0]}` : `lines ${lines[0]}-${lines[lines.length - 1]}`;
      } else if (group.conversationLine !== undefined) where = `line ${group.conversationLine}`;
      if (where === undefined || (error.code !== 'INVALID_ARGUMENT' && error.code !== 'CONFLICT')) throw error;
      throw new ChatStoreError(error.code, `${where}: ${error.message}`, {
        ...(error.path === undefined ? {} : { path: error.path }),
        cause: error,
      });
    }
  }
}

function parseLine(line: string, lineNumber: number, fallbackConversation: string | undefined): Line {
  const bad = (problem: string, cause?: unknown) =>
    new ChatStoreError('INVALID_ARGUMENT', `line ${lineNumber} ${problem}`, {
      path: `line ${lineNumber}`,
      ...(cause === undefined ? {} : { cause }),
    });
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw bad('is not JSON', cause);
  }
  if (!isObject(value)) throw bad('is not a JSON object');
  if ('conversation' in value) {
    const conversation = value.conversation;
    if (Object.keys(value).length !== 1) throw bad('holds a conversation and other keys');
    if (!isObject(conversation) || typeof conversation.id !== 'string') throw bad('has a conversation without an id');
    return { kind: 'conversation', conversation: conversation as unknown as Conversation };
  }
  const record = { ...value };
  const conversationId = typeof record.conversationId === 'string' ? record.conversationId : fallbackConversation;
  if (conversationId === undefined) throw bad('has no conversationId (use --conversation)');
  if (record.seq !== undefined) {
    // A stored message, as exported: restored as it is (the store checks every field).
    return { kind: 'stored', conversationId, message: { ...record, conversationId } as unknown as Message };
  }
  const deleted = record.deletedAt !== undefined;
  delete record.deletedAt;
  for (const field of STORE_FIELDS) delete record[field];
  return { kind: 'new', conversationId, message: record as NewMessage, deleted };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
