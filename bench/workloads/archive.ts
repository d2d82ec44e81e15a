/**
 * archive (opt-in, `--workloads archive`): what the archive costs and gives (docs/archive.md). For
 * each bare chatstore contender, a store on its storage with the archive in front: `archiveConversations`
 * conversations of `archiveMessages` messages are filled, the newest 20 of each read from the engine,
 * then every conversation archived in one run; the newest 20 read again from the files, first by a
 * store that has read none of them (each read decodes its file) and again (decoded, in memory);
 * last, one message appended to each archived conversation (which restores it first).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../src/open.js';
import { benchMessages } from '../data.js';
import { now, summarize } from '../harness.js';
import type { Workload } from '../workload.js';

const FAR_FUTURE = '2100-01-01T00:00:00Z';

/** @example const rows = await archiveWorkload.run(contender, context); */
export const archiveWorkload: Workload = {
  id: 'archive',
  title: 'archive: moving idle conversations to files, reading them back, restoring on a write',
  method: (sizes) =>
    `${sizes.archiveConversations} conversations of ${sizes.archiveMessages} messages (filled through the batch path); the newest 20 of each read once from the engine (db p50); one archiving run moves them all (gzip level 6: ms per conversation, file bytes per message); the newest 20 of each read by a store that has read no file (cold: each read decodes its file) and again (warm: decoded in memory); then one message appended to each (restore p50: the conversation goes back to the engine first). Bare chatstore contenders only.`,
  columns: [
    { key: 'conversations', label: 'conversations' },
    { key: 'dbRead', label: 'db read p50 ms', digits: 3 },
    { key: 'archiveMs', label: 'archive ms/conv', digits: 2 },
    { key: 'bytesPerMessage', label: 'file bytes/msg', digits: 1 },
    { key: 'coldRead', label: 'cold read p50 ms', digits: 3 },
    { key: 'warmRead', label: 'warm read p50 ms', digits: 3 },
    { key: 'restore', label: 'append+restore p50 ms', digits: 2 },
  ],
  async run(contender, context) {
    const url = contender.storeUrl;
    if (url === undefined || contender.kind !== 'chatstore') {
      return [{ status: 'n/a', note: 'chatstore only', cells: {} }];
    }
    const { workspace, dispose: removeWorkspace } = await context.workspace();
    const bare = url(workspace);
    if (/[?&](maxActiveConversations|cacheUrl)=/.test(bare)) {
      await removeWorkspace();
      return [{ status: 'skipped', note: 'tiers in front would answer the reads: see the bare row', cells: {} }];
    }
    // The contender's storage (made by its instance, removed when it closes); stores on it with the archive.
    const instance = await contender.open(workspace);
    try {
      const dir = join(workspace.dir, 'archive');
      await mkdir(dir, { recursive: true });
      const archived = `${bare}${bare.includes('?') ? '&' : '?'}archiveDir=${encodeURIComponent(dir)}`;
      const { archiveConversations: conversations, archiveMessages: messages } = context.sizes;
      const ids = Array.from({ length: conversations }, (_, i) => `archive-${String(i).padStart(5, '0')}`);
      const timed = async (read: (id: string) => Promise<unknown>): Promise<number[]> => {
        const samples: number[] = [];
        for (const id of ids) {
          const started = now();
          await read(id);
          samples.push(now() - started);
        }
        return samples;
      };

      const writer = await openStore(archived);
      let report: Awaited<ReturnType<typeof writer.archive>>;
      let db: number[];
      try {
        context.log(`${contender.name}: filling ${conversations} conversations`);
        for (const id of ids) await writer.append(id, benchMessages(id, 0, messages));
        db = await timed((id) => writer.recent(id, 20));
        context.log(`${contender.name}: archiving`);
        report = await writer.archive({ before: FAR_FUTURE });
      } finally {
        await writer.close();
      }
      const reader = await openStore(archived);
      let cold: number[];
      let warm: number[];
      let restore: number[];
      try {
        cold = await timed((id) => reader.recent(id, 20));
        warm = await timed((id) => reader.recent(id, 20));
        restore = await timed((id) => reader.append(id, benchMessages(id, messages, 1)));
      } finally {
        await reader.close();
      }
      return [
        {
          status: 'ok',
          cells: {
            conversations: report.archived.length,
            dbRead: summarize(db).p50,
            archiveMs: report.ms / Math.max(1, report.archived.length),
            bytesPerMessage: report.bytes / Math.max(1, report.messages),
            coldRead: summarize(cold).p50,
            warmRead: summarize(warm).p50,
            restore: summarize(restore).p50,
          },
        },
      ];
    } finally {
      await instance.close();
      await removeWorkspace();
    }
  },
};
