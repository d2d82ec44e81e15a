import { ChatStoreError } from '../errors.js';
import { type CommandContext, withStore } from './context.js';

/**
 * `chatstore retention --older-than-days <n> | --before <time> [--dry-run]`: hard-deletes every
 * message created before the cutoff, in the database and in the archive (`applyRetention`); prints
 * the report as JSON. On PostgreSQL with monthly partitions, whole months go as dropped partitions.
 */
export async function retention(
  context: CommandContext,
  options: { olderThanDays?: string; before?: string; dryRun?: boolean },
): Promise<void> {
  if (options.olderThanDays !== undefined && !/^\d{1,9}$/.test(options.olderThanDays)) {
    throw new ChatStoreError('INVALID_ARGUMENT', '--older-than-days must be a whole number', {
      path: 'older-than-days',
    });
  }
  const report = await withStore(context, (store) =>
    store.applyRetention({
      ...(options.olderThanDays === undefined ? {} : { olderThanDays: Number(options.olderThanDays) }),
      ...(options.before === undefined ? {} : { before: options.before }),
      dryRun: options.dryRun === true,
    }),
  );
  context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
