/**
 * W3: last-20 read latency as one conversation's history grows. The conversation is filled through
 * the batch path up to each size in turn, then the newest 20 are read repeatedly.
 */
import { now, rssMiB, sample, summarize } from '../harness.js';
import { capText, count, deadlineFor, duration, fill, type Row, type Workload } from '../workload.js';

const FILL_BATCH = 1000;
const READ_WARMUP = 50;

/** @example const rows = await w3Last20.run(contender, context); */
export const w3Last20: Workload = {
  id: 'W3',
  title: 'W3 last-20 read latency against history size (one conversation)',
  method: (sizes) =>
    `one conversation filled through the batch path (${FILL_BATCH} per call) to ${sizes.w3Sizes.map(count).join(', ')} messages in turn; at each size ${READ_WARMUP} warm-up reads, then up to ${sizes.w3Reads} timed reads of the newest 20 (at most ${sizes.sampleBudgetMs / 1000} s); RSS of the bench process after the reads. A size whose fill is projected past ${duration(sizes.fillLimitMs)} is skipped. Naive contenders are capped per size.`,
  columns: [
    { key: 'size', label: 'history' },
    { key: 'p50', label: 'p50 ms', digits: 3 },
    { key: 'p99', label: 'p99 ms', digits: 3 },
    { key: 'reads', label: 'reads' },
    { key: 'rssMiB', label: 'RSS MiB' },
    { key: 'fillMsgPerSec', label: 'fill msg/s' },
  ],
  async run(contender, context) {
    const { w3Sizes, w3Reads, sampleBudgetMs, fillLimitMs } = context.sizes;
    const limit = contender.maxSize?.W3 ?? Number.POSITIVE_INFINITY;
    const rows: Omit<Row, 'contender' | 'durability'>[] = [];
    const { instance, dispose } = await context.open(contender);
    try {
      let filled = 0;
      let msPerMessage: number | undefined;
      let stop: string | undefined;
      for (const size of w3Sizes) {
        const empty = { size, p50: null, p99: null, reads: null, rssMiB: null, fillMsgPerSec: null };
        if (stop === undefined && size > limit) stop = `not run: this contender is limited to ${count(limit)}`;
        if (stop === undefined && msPerMessage !== undefined && msPerMessage * (size - filled) > fillLimitMs) {
          stop = `skipped: fill would take ${duration(msPerMessage * (size - filled))}`;
        }
        if (stop !== undefined) {
          rows.push({ status: 'skipped', note: stop, cells: empty });
          continue;
        }
        const deadline = deadlineFor(contender);
        context.log(`${contender.name}: filling to ${count(size)}`);
        const result = await fill(instance, 'w3', filled, size, {
          batch: FILL_BATCH,
          deadline,
          limitMs: fillLimitMs,
        });
        filled += result.filled;
        if (result.filled > 0) msPerMessage = result.ms / result.filled;
        if (result.stoppedBy !== undefined) {
          stop =
            result.stoppedBy === 'deadline'
              ? `capped at ${capText(contender)}: filling stopped at ${count(filled)}`
              : `skipped: fill would take ${duration((msPerMessage ?? 0) * (size - filled))}`;
          rows.push({ status: result.stoppedBy === 'deadline' ? 'capped' : 'skipped', note: stop, cells: empty });
          continue;
        }
        const newest = await instance.lastN('w3', 20);
        if (newest.length !== Math.min(20, size) || newest[newest.length - 1]?.seq !== size) {
          throw new Error(`last 20 at ${size}: got ${newest.length} messages ending at seq ${newest.at(-1)?.seq}`);
        }
        const samples = await sample(() => instance.lastN('w3', 20), {
          warmup: READ_WARMUP,
          iterations: w3Reads,
          budgetMs: Math.min(sampleBudgetMs, Math.max(0, deadline - now())),
        });
        const summary = summarize(samples);
        const short = samples.length < w3Reads;
        rows.push({
          status: 'ok',
          ...(short ? { note: `${samples.length} reads within the time budget` } : {}),
          cells: {
            size,
            p50: summary.p50,
            p99: summary.p99,
            reads: samples.length,
            rssMiB: rssMiB(),
            fillMsgPerSec: result.ms > 0 ? (result.filled / result.ms) * 1000 : null,
          },
        });
      }
      return rows;
    } finally {
      await dispose();
    }
  },
};
