/**
 * `deleteSource`: after a run that is complete and whose verification passed, the source is read
 * once more and each conversation compared with the store again, as `--verify` compares it. One that
 * still matches, and whose records all converted, is deleted from the source (the layout's
 * `SourceDeleter`: rows by their id, Redis keys and set members, a list's oldest entries); one
 * written to since, or holding a record that failed, stays. A file is deleted whole, and only when
 * every conversation in it matched and it held nothing unreadable.
 */
import type { ChatStore } from '../store.js';
import { type PrepareOptions, prepareConversation } from './conversation.js';
import type { OpenedSource } from './open-source.js';
import { compareConversation } from './verify.js';

export interface SourceDeletion {
  /** Conversations deleted from the source, and the records they held. */
  conversations: number;
  records: number;
  /** Conversations left in the source: written to since the run, or holding a record that failed. */
  kept: number;
  /** Why nothing was deleted, when the run did not allow it (it was incomplete, or its verification failed). */
  skipped?: string;
}

export async function deleteMigratedSource(
  store: ChatStore,
  source: OpenedSource,
  prepare: PrepareOptions,
): Promise<SourceDeletion> {
  const deleter = source.deleter();
  let whole = true;
  const matched = { conversations: 0, records: 0 };
  let kept = 0;
  try {
    for await (const item of source.items) {
      if (item.kind === 'error') {
        whole = false;
        continue;
      }
      const prepared = prepareConversation(source.layout, item.conversation, prepare);
      const same = prepared.errors.length === 0 && (await compareConversation(store, prepared)).reason === undefined;
      if (!same) {
        whole = false;
        kept += 1;
        continue;
      }
      await deleter.remove(item.conversation);
      matched.conversations += 1;
      matched.records += item.conversation.records.length;
    }
  } catch (error) {
    // A pass that failed half-way still ends its deleter (closes its connection; a libSQL file's
    // matched rows are deleted then); the pass's own error is the one reported.
    await deleter.finish(false).catch(() => undefined);
    throw error;
  }
  const gone = await deleter.finish(whole);
  return gone ? { ...matched, kept } : { conversations: 0, records: 0, kept: kept + matched.conversations };
}
