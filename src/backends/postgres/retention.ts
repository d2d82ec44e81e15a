/**
 * Partition retention of the `monthly` layout, through the partition manager (`partitions.ts`):
 * listing the monthly partitions and dropping whole months.
 */
import { ChatStoreError } from '../../errors.js';
import { normalizeTime } from '../../time.js';
import type { PgContext } from './context.js';
import { toChatStoreError } from './errors.js';
import { notPartitioned } from './partitions.js';
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
