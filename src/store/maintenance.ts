/** ChatStore's erasure of a person and the engine's compaction. */
import type { CompactionReport } from '../backend.js';
import type { ErasureReceipt } from '../model.js';
import type { StoreCore } from './core.js';
import type { EraseOptions } from './options.js';

export async function eraseSubject(
  core: StoreCore,
  participantId: string,
  options: EraseOptions,
): Promise<ErasureReceipt> {
  const { backend } = core;
  const subjectId = core.validate.id(participantId, 'participantId');
  const compact = options.compact === true;
  const erasedAt = core.timestamp();
  const counts =
    compact && backend.compact !== undefined
      ? await backend.eraseSubject(subjectId, erasedAt, { compact: true })
      : await backend.eraseSubject(subjectId, erasedAt);
  return {
    subjectId,
    messagesDeleted: counts.messagesDeleted,
    conversationsDeleted: counts.conversationsDeleted,
    participantEntriesRemoved: counts.participantEntriesRemoved,
    ...(counts.archiveFilesRewritten === undefined ? {} : { archiveFilesRewritten: counts.archiveFilesRewritten }),
    erasedAt,
    ...(compact ? { compaction: backend.compact === undefined ? 'not-needed' : 'done' } : {}),
  };
}

export async function compactStorage(core: StoreCore): Promise<CompactionReport> {
  const report = core.backend.compact === undefined ? undefined : await core.backend.compact();
  return { rewritten: report?.rewritten ?? [], skipped: report?.skipped ?? [], ms: report?.ms ?? 0 };
}
