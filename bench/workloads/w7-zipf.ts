/**
 * W7 (opt-in, `--workloads W7`): the last 20 of many conversations, most reads going to a few, as a
 * bot's traffic does: reads pick a conversation by a Zipf law (exponent 1) over `w7Conversations`,
 * each filled with `w7Messages` first. With tiers in front, the first tier's hit ratio over the reads.
 */
import { benchMessages, prng } from '../data.js';
import { sample, summarize } from '../harness.js';
import { count, type Workload } from '../workload.js';

const READ_WARMUP = 100;

/** @example const rows = await w7Zipf.run(contender, context); */
export const w7Zipf: Workload = {
  id: 'W7',
  title: 'W7 last-20 over many conversations, Zipf-distributed',
  method: (sizes) =>
    `${count(sizes.w7Conversations)} conversations of ${sizes.w7Messages} messages each (filled through the batch path first); then ${count(sizes.w7Reads)} timed reads of the newest 20 (after ${READ_WARMUP} warm-up reads), each of a conversation drawn by a Zipf law with exponent 1 (seeded: every contender reads the same sequence). hit ratio = the first tier's hits ÷ its reads during the timed reads; — without tiers.`,
  columns: [
    { key: 'conversations', label: 'conversations' },
    { key: 'p50', label: 'p50 ms', digits: 3 },
    { key: 'p99', label: 'p99 ms', digits: 3 },
    { key: 'reads', label: 'reads' },
    { key: 'hitRatio', label: 'hit ratio', digits: 3 },
  ],
  async run(contender, context) {
    const { w7Conversations, w7Messages, w7Reads, sampleBudgetMs } = context.sizes;
    const { instance, dispose } = await context.open(contender);
    try {
      context.log(`${contender.name}: filling ${count(w7Conversations)} conversations`);
      for (let c = 0; c < w7Conversations; c++) {
        await instance.appendBatch(conversationOf(c), benchMessages(conversationOf(c), 0, w7Messages));
      }
      const pick = zipf(w7Conversations, 1);
      const before = instance.tiers?.()[0];
      const samples = await sample(() => instance.lastN(conversationOf(pick()), 20), {
        warmup: READ_WARMUP,
        iterations: w7Reads,
        budgetMs: sampleBudgetMs * 3,
      });
      const after = instance.tiers?.()[0];
      const reads = after === undefined ? 0 : after.hits + after.misses - ((before?.hits ?? 0) + (before?.misses ?? 0));
      const summary = summarize(samples);
      return [
        {
          status: 'ok',
          cells: {
            conversations: w7Conversations,
            p50: summary.p50,
            p99: summary.p99,
            reads: samples.length,
            hitRatio: after === undefined || reads === 0 ? null : (after.hits - (before?.hits ?? 0)) / reads,
          },
        },
      ];
    } finally {
      await dispose();
    }
  },
};

const conversationOf = (index: number): string => `w7-${String(index).padStart(5, '0')}`;

/** Draws 0…n-1 with P(k) ∝ 1 / (k+1)^s, from a seeded generator (inverse of the cumulative sums). */
function zipf(n: number, s: number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cumulative[k] = total;
  }
  const random = prng(7);
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}
