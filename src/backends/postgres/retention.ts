/**
 * Partition retention of the `monthly` layout, through the partition manager (`partitions.ts`):
 * listing the monthly partitions and dropping whole months; and `expireMessages`, which drops the
 * months wholly before the cutoff and removes the rest row by row.
 */
import type { ExpiryCounts, ExpiryRequest } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import { addExpiry, expireByScan } from '../../retention.js';
import { normalizeTime } from '../../time.js';
import type { PgContext } from './context.js';
import { toChatStoreError } from './errors.js';
import { notPartitioned } from './partitions.js';
import { changeChannel } from './schema.js';
import type { PostgresBackend } from './types.js';

export function retentionOperations(ctx: PgContext): Pick<PostgresBackend, 'partitions' | 'dropPartitionsBefore'> {
  const { partitions } = ctx;
  return {
    async partitions() {
      ctx.ensureOpen();
      if (partitions === undefined) return [];
      try {
        return await partitions.list();
      } catch (error) {
        throw toChatStoreError(error);
      }
    },

    async dropPartitionsBefore(before) {
      ctx.ensureOpen();
      const iso = normalizeTime(before);
      if (iso === undefined) {
        throw new ChatStoreError('INVALID_ARGUMENT', 'before must be a time', { path: 'before' });
      }
      if (partitions === undefined) throw notPartitioned(ctx.layout.schema);
      try {
        return await partitions.dropBefore(iso);
      } catch (error) {
        throw toChatStoreError(error);
      }
    },
  };
}

/**
 * Retention on a `monthly` schema: the partitions wholly before the cutoff are dropped (no
 * row-by-row delete, no vacuum debt), then what is left before it is removed message by message.
 * A dropped partition fires no trigger: every change feed is told that anything may have changed.
 */
export async function expireInPartitions(
  ctx: PgContext,
  backend: PostgresBackend,
  request: ExpiryRequest,
): Promise<ExpiryCounts> {
  const { partitions } = ctx;
  if (partitions === undefined) return expireByScan(backend, request);
  const dropped: ExpiryCounts = { messagesDeleted: 0, partitionsDropped: [], archiveFilesRewritten: 0 };
  try {
    if (request.dryRun) {
      dropped.partitionsDropped = (await partitions.list())
        .filter((partition) => partition.to <= request.before)
        .map((partition) => partition.name);
    } else {
      const drop = await partitions.dropBefore(request.before);
      dropped.partitionsDropped = drop.dropped;
      dropped.messagesDeleted = drop.messagesDeleted;
      if (drop.dropped.length > 0) {
        await ctx.query('SELECT pg_notify($1, $2)', [
          changeChannel(ctx.layout.schema),
          JSON.stringify({ from: 'retention', change: '*' }),
        ]);
      }
    }
  } catch (error) {
    throw toChatStoreError(error);
  }
  // A dry run counts the dropped months' messages here, with the rest.
  return addExpiry(dropped, await expireByScan(backend, request));
}
