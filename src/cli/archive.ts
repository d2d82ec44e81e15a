import { ChatStoreError } from '../errors.js';
import { type CommandContext, withStore } from './context.js';

export interface ArchiveCommandOptions {
  olderThanDays?: string;
  before?: string;
  dryRun?: boolean;
  limit?: string;
  list?: boolean;
  after?: string;
  restore?: string;
}

/**
 * `chatstore archive`: moves conversations idle for `--older-than-days` (default: the archive's
 * `archiveAfterDays`) or since `--before` to the archive, and prints the report as JSON (`--dry-run`:
 * only which would move). `--list` prints the archived conversations (`--after`, `--limit` page
 * them); `--restore <id>` puts one back in the database. The store needs an archive
 * (`archiveDir` in its URL, or `CHATSTORE_ARCHIVE_DIR` / `ARCHIVE_AFTER_DAYS`; docs/archive.md).
 */
export async function archive(context: CommandContext, options: ArchiveCommandOptions): Promise<void> {
  const modes = [options.list === true, options.restore !== undefined].filter(Boolean).length;
  if (modes > 1) throw new ChatStoreError('INVALID_ARGUMENT', 'give --list or --restore, not both', { path: 'list' });
  const result = await withStore(context, async (store) => {
    if (options.restore !== undefined) {
      return { conversationId: options.restore, restored: await store.restoreArchived(options.restore) };
    }
    if (options.list === true) {
      return store.listArchived({
        ...(options.after === undefined ? {} : { after: options.after }),
        ...(options.limit === undefined ? {} : { limit: count(options.limit, 'limit') }),
      });
    }
    return store.archive({
      ...(options.olderThanDays === undefined
        ? {}
        : { olderThanDays: count(options.olderThanDays, 'older-than-days', true) }),
      ...(options.before === undefined ? {} : { before: options.before }),
      ...(options.limit === undefined ? {} : { limit: count(options.limit, 'limit') }),
      dryRun: options.dryRun === true,
    });
  });
  context.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

function count(text: string, path: string, zero = false): number {
  if (!(zero ? /^\d{1,9}$/ : /^[1-9]\d{0,8}$/).test(text)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `--${path} must be a ${zero ? 'whole number' : 'positive integer'}`, {
      path,
    });
  }
  return Number(text);
}
