/** W5: two-word full-text queries over many messages in many conversations. */
import { searchQueries } from '../data.js';
import { now, sample, summarize } from '../harness.js';
import { count, duration, fill, type Workload } from '../workload.js';

const QUERY_WARMUP = 20;
const HITS = 20;

/** @example const rows = await w5Search.run(contender, context); */
export const w5Search: Workload = {
  id: 'W5',
  title: 'W5 search (two-word query, whole store)',
  method: (sizes) =>
    `${count(sizes.w5Messages)} messages in ${count(sizes.w5Conversations)} conversations (batch path); ${QUERY_WARMUP} warm-up queries, then up to ${sizes.w5Queries} timed queries (at most ${sizes.sampleBudgetMs / 1000} s) cycling through 50 seeded two-word queries of mid-frequency words, top ${HITS} hits each. A fill projected past ${duration(sizes.w5FillLimitMs)} stops early and the table says at how many messages.`,
  columns: [
    { key: 'messages', label: 'messages' },
    { key: 'conversations', label: 'conversations' },
    { key: 'p50', label: 'p50 ms', digits: 3 },
    { key: 'p99', label: 'p99 ms', digits: 3 },
    { key: 'hits', label: 'mean hits', digits: 1 },
    { key: 'queries', label: 'queries' },
    { key: 'fillMsgPerSec', label: 'fill msg/s' },
  ],
  async run(contender, context) {
    const { w5Conversations, w5Queries, sampleBudgetMs, w5FillLimitMs: fillLimitMs } = context.sizes;
    const messages = Math.min(context.sizes.w5Messages, contender.maxSize?.W5 ?? Number.POSITIVE_INFINITY);
    const conversations = Math.min(w5Conversations, messages);
    const perConversation = Math.floor(messages / conversations);
    const { instance, dispose } = await context.open(contender);
    try {
      const search = instance.search?.bind(instance);
      if (search === undefined) throw new Error('this contender has no search');
      const notes: string[] = [];
      if (messages < context.sizes.w5Messages) {
        notes.push(`limited to ${count(messages)} messages for this contender (search is a linear scan)`);
      }
      let filled = 0;
      let fillMs = 0;
      let filledConversations = 0;
      const fillStarted = now();
      for (let c = 0; c < conversations; c++) {
        const spent = now() - fillStarted;
        if (filled > 0 && filled >= messages / 10 && (spent / filled) * (messages - filled) > fillLimitMs) {
          notes.push(
            `fill stopped at ${count(filled)}: all ${count(messages)} would take ${duration((spent / filled) * messages)}`,
          );
          break;
        }
        const result = await fill(instance, `w5-${String(c).padStart(4, '0')}`, 0, perConversation, { batch: 1000 });
        filled += result.filled;
        fillMs += result.ms;
        filledConversations += 1;
      }
      context.log(`${contender.name}: searching ${count(filled)} messages`);
      const queries = searchQueries(50);
      const hits: number[] = [];
      const samples = await sample(
        async (i) => {
          hits.push(await search(queries[i % queries.length] ?? 'order refund', HITS));
        },
        { warmup: QUERY_WARMUP, iterations: w5Queries, budgetMs: sampleBudgetMs },
      );
      const summary = summarize(samples);
      if (samples.length < w5Queries) notes.push(`${samples.length} queries within the time budget`);
      return [
        {
          status: filled < context.sizes.w5Messages ? 'capped' : 'ok',
          ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
          cells: {
            messages: filled,
            conversations: filledConversations,
            p50: summary.p50,
            p99: summary.p99,
            // the measured queries are the last samples.length calls
            hits: hits.slice(-samples.length).reduce((sum, n) => sum + n, 0) / samples.length,
            queries: samples.length,
            fillMsgPerSec: fillMs > 0 ? (filled / fillMs) * 1000 : null,
          },
        },
      ];
    } finally {
      await dispose();
    }
  },
};
