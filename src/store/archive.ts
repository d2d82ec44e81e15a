/** ChatStore's archive calls (docs/archive.md): run an archiving pass, list, restore, figures. */
import type { ArchivedConversationSummary, ArchiveOperations, ArchiveRunReport, ArchiveStats } from '../backend.js';
import { ChatStoreError } from '../errors.js';
import type { StoreCore } from './core.js';
import { cutoff, dryRunFlag } from './cutoff.js';
import type { ArchivedPage, ArchiveOptions, ListArchivedOptions } from './options.js';

const DEFAULT_ARCHIVED = 100;

export async function runArchive(core: StoreCore, options: ArchiveOptions): Promise<ArchiveRunReport> {
  const archive = archiveOf(core);
  const before = cutoff(core, options, archive.archiveAfterDays);
  return archive.run({
    before,
    dryRun: dryRunFlag(options.dryRun),
    ...(options.limit === undefined ? {} : { limit: core.validate.limit(options.limit, 1, 'limit') }),
  });
}

export async function listArchived(core: StoreCore, options: ListArchivedOptions): Promise<ArchivedPage> {
  const archive = archiveOf(core);
  const limit = core.validate.limit(options.limit, DEFAULT_ARCHIVED, 'limit');
  const after = options.after === undefined ? undefined : core.validate.id(options.after, 'after');
  const found = await archive.list({ ...(after === undefined ? {} : { after }), limit: limit + 1 });
  const conversations: ArchivedConversationSummary[] = found.slice(0, limit);
  const last = conversations[conversations.length - 1];
  return found.length > limit && last !== undefined ? { conversations, next: last.conversationId } : { conversations };
}

export async function restoreArchived(core: StoreCore, conversationId: string): Promise<boolean> {
  return archiveOf(core).restore(core.validate.id(conversationId, 'conversationId'));
}

export async function archiveStats(core: StoreCore): Promise<ArchiveStats | undefined> {
  return core.backend.archive?.stats();
}

function archiveOf(core: StoreCore): ArchiveOperations {
  const { archive } = core.backend;
  if (archive === undefined) {
    throw new ChatStoreError(
      'UNSUPPORTED',
      'this store has no archive: open it with archiveDir in its URL (or CHATSTORE_ARCHIVE_DIR; docs/archive.md)',
    );
  }
  return archive;
}
