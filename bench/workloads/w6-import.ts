/** W6: bulk import through the batch path, as `chatstore import` does it (500 messages per call). */
import { ChatStoreError } from '../../src/errors.js';
import type { NewMessage } from '../../src/model.js';
import { benchMessages, searchQueries } from '../data.js';
import { now } from '../harness.js';
import { capText, count, deadlineFor, type Workload } from '../workload.js';

/** @example const rows = await w6Import.run(contender, context); */
export const w6Import: Workload = {
  id: 'W6',
  title: 'W6 bulk import (batch path)',
  method: (sizes) =>
    `${count(sizes.w6Messages)} messages for ${sizes.w6Conversations} conversations, one conversation after another, in calls of ${sizes.w6Batch} (the default of \`chatstore import --batch\`); the data is generated before timing; two warm-up batches into another conversation. msg/s = messages / wall time. Then one search (two words, top 20), timed: an engine that indexes for search after the writes (chatstore on SQLite) pays for the index there; with msg/s searchable = messages / (import + that search).`,
  columns: [
    { key: 'messages', label: 'messages' },
    { key: 'batch', label: 'per call' },
    { key: 'msgPerSec', label: 'msg/s' },
    { key: 'totalMs', label: 'total ms', digits: 0 },
    { key: 'searchMs', label: 'then a search, ms', digits: 0 },
    { key: 'searchableMsgPerSec', label: 'msg/s searchable' },
  ],
  async run(contender, context) {
    const { w6Messages, w6Conversations, w6Batch } = context.sizes;
    const perConversation = Math.ceil(w6Messages / w6Conversations);
    const batches: { conversationId: string; messages: NewMessage[] }[] = [];
    for (let c = 0; c < w6Conversations; c++) {
      const conversationId = `w6-${String(c).padStart(4, '0')}`;
      const size = Math.min(perConversation, w6Messages - c * perConversation);
      for (let start = 0; start < size; start += w6Batch) {
        batches.push({
          conversationId,
          messages: benchMessages(conversationId, start, Math.min(w6Batch, size - start)),
        });
      }
    }
    const { instance, dispose } = await context.open(contender);
    try {
      for (let i = 0; i < 2; i++)
        await instance.appendBatch('w6-warmup', benchMessages('w6-warmup', i * w6Batch, w6Batch));
      const deadline = deadlineFor(contender);
      let imported = 0;
      const started = now();
      for (const batch of batches) {
        if (now() > deadline) break;
        await instance.appendBatch(batch.conversationId, batch.messages);
        imported += batch.messages.length;
      }
      const elapsed = now() - started;
      const search = instance.search;
      let searchMs: number | undefined;
      if (search !== undefined) {
        const [query] = searchQueries(1);
        const searched = now();
        try {
          await search.call(instance, query as string, 20);
          searchMs = now() - searched;
        } catch (error) {
          // An engine without full-text search (Redis): the import's rate is all there is.
          if (!(error instanceof ChatStoreError && error.code === 'UNSUPPORTED')) throw error;
        }
      }
      const capped = imported < w6Messages;
      return [
        {
          status: capped ? 'capped' : 'ok',
          ...(capped
            ? { note: `capped at ${capText(contender)}: ${count(imported)} of ${count(w6Messages)} imported` }
            : {}),
          cells: {
            messages: imported,
            batch: w6Batch,
            msgPerSec: (imported / elapsed) * 1000,
            totalMs: elapsed,
            ...(searchMs === undefined
              ? {}
              : { searchMs, searchableMsgPerSec: (imported / (elapsed + searchMs)) * 1000 }),
          },
        },
      ];
    } finally {
      await dispose();
    }
  },
};
