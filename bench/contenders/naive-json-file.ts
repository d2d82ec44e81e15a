/**
 * The oldest design: one JSON file holding every conversation, read, parsed, changed and rewritten
 * in full for every message (`fs.promises`, no fsync, no temp-file-and-rename, no lock), as the
 * first bots did it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';

type Stored = NewMessage & { seq: number };
type Database = Record<string, Stored[]>;

/** @example naiveJsonFileContender() */
export function naiveJsonFileContender(extra: Partial<Contender> = {}): Contender {
  return {
    name: 'naive JSON file',
    kind: 'naive',
    engine: 'file',
    durabilityLabel: 'no fsync',
    durability:
      'writeFile in place without fsync: lost on power loss, and a crash mid-write leaves a truncated, unreadable file',
    notRun: { W5: { status: 'n/a', reason: 'no search in this design' } },
    ...extra,
    async open(workspace): Promise<ContenderInstance> {
      const path = join(workspace.dir, 'conversations.json');
      const load = async (): Promise<Database> => {
        try {
          return JSON.parse(await readFile(path, 'utf8')) as Database;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
          throw error;
        }
      };
      const history = async (conversationId: string): Promise<Stored[]> => (await load())[conversationId] ?? [];
      const push = async (conversationId: string, messages: NewMessage[]) => {
        const database = await load();
        const conversation = database[conversationId] ?? [];
        database[conversationId] = conversation;
        for (const message of messages) conversation.push({ ...message, seq: conversation.length + 1 });
        await writeFile(path, JSON.stringify(database));
      };
      return {
        append: (conversationId, message) => push(conversationId, [message]),
        appendBatch: push,
        async lastN(conversationId, n) {
          return (await history(conversationId)).slice(-n);
        },
        async pageBack(conversationId, cursor, n) {
          const all = await history(conversationId);
          const end = typeof cursor === 'number' ? cursor - 1 : all.length;
          const start = Math.max(0, end - n);
          const messages: ReadMessage[] = all.slice(start, end).reverse();
          return start === 0 ? { messages } : { messages, next: start + 1 };
        },
        readAll: history,
        async close() {},
      };
    },
  };
}
