/**
 * `--rollback <id>`: removes exactly what one run stored. The run noted every conversation before
 * writing to it (`touched.jsonl`), and each message it stored names it in `metadata.migratedFrom.run`;
 * so the rollback hard-deletes those messages, and a conversation the run created once it is empty.
 * What was in the store before the run, and messages that arrived since, stay.
 */
import { ChatStoreError } from '../errors.js';
import type { Message } from '../model.js';
import type { ChatStore } from '../store.js';
import { everyMessage } from './read-back.js';
import { DEFAULT_RUNS_DIR, RunFiles } from './run-files.js';

export interface RollbackReport {
  runId: string;
  messagesRemoved: number;
  conversationsRemoved: number;
}

export async function rollbackMigration(
  store: ChatStore,
  runId: string,
  runsDir: string = DEFAULT_RUNS_DIR,
): Promise<RollbackReport> {
  const files = RunFiles.open(runsDir, runId);
  const run = files.run;
  if (run.state === 'dry-run') {
    throw new ChatStoreError('INVALID_ARGUMENT', `run ${runId} was a dry run: it stored nothing`, { path: 'rollback' });
  }
  const report: RollbackReport = { runId, messagesRemoved: 0, conversationsRemoved: 0 };
  for (const touched of files.touched()) {
    const { ids, all } = await messagesOfRun(store, touched.conversationId, runId);
    // A conversation the run created and that holds only its messages goes whole, in one call.
    if (touched.created && all && ids.length > 0) {
      if (await store.deleteConversation(touched.conversationId, { hard: true })) {
        report.messagesRemoved += ids.length;
        report.conversationsRemoved += 1;
      }
      continue;
    }
    for (const id of ids) {
      if (await store.delete(id, { hard: true })) report.messagesRemoved += 1;
    }
    if (!touched.created) continue;
    const conversation = await store.getConversation(touched.conversationId);
    if (conversation !== undefined && conversation.messageCount === 0) {
      if (await store.deleteConversation(touched.conversationId, { hard: true })) report.conversationsRemoved += 1;
    }
  }
  files.run = { ...run, state: 'rolled-back', finishedAt: new Date().toISOString() };
  return report;
}

/** The ids of the messages of one conversation that the run stored (soft-deleted ones too), and whether they are all it holds. */
async function messagesOfRun(
  store: ChatStore,
  conversationId: string,
  runId: string,
): Promise<{ ids: string[]; all: boolean }> {
  const messages = await everyMessage(store, conversationId);
  const ids = messages.filter((message) => storedBy(message, runId)).map((message) => message.id);
  return { ids, all: ids.length === messages.length };
}

function storedBy(message: Message, runId: string): boolean {
  const from = message.metadata?.migratedFrom;
  return typeof from === 'object' && from !== null && !Array.isArray(from) && from.run === runId;
}
