/** W1: one client appending one message at a time, awaiting each acknowledgement. */
import { benchMessages } from '../data.js';
import { now, summarize } from '../harness.js';
import { capText, deadlineFor, type Workload } from '../workload.js';

/** @example const rows = await w1Sequential.run(contender, context); */
export const w1Sequential: Workload = {
  id: 'W1',
  title: 'W1 sequential appends (one client, awaiting each)',
  method: (sizes) =>
    `${sizes.w1Appends} appends into one new conversation after ${sizes.w1Warmup} warm-up appends into another; each append timed alone; msg/s = appends / wall time.`,
  columns: [
    { key: 'appends', label: 'appends' },
    { key: 'msgPerSec', label: 'msg/s' },
    { key: 'p50', label: 'p50 ms', digits: 3 },
    { key: 'p99', label: 'p99 ms', digits: 3 },
  ],
  async run(contender, context) {
    const { w1Appends, w1Warmup } = context.sizes;
    const warmup = benchMessages('w1-warmup', 0, w1Warmup);
    const messages = benchMessages('w1', 0, w1Appends);
    const { instance, dispose } = await context.open(contender);
    try {
      for (const message of warmup) await instance.append('w1-warmup', message);
      const deadline = deadlineFor(contender);
      const samples: number[] = [];
      const started = now();
      for (const message of messages) {
        if (now() > deadline) break;
        const began = now();
        await instance.append('w1', message);
        samples.push(now() - began);
      }
      const elapsed = now() - started;
      const summary = summarize(samples);
      const capped = samples.length < messages.length;
      return [
        {
          status: capped ? 'capped' : 'ok',
          ...(capped
            ? { note: `capped at ${capText(contender)}: ${samples.length} of ${messages.length} appends` }
            : {}),
          cells: {
            appends: samples.length,
            msgPerSec: (samples.length / elapsed) * 1000,
            p50: summary.p50,
            p99: summary.p99,
          },
        },
      ];
    } finally {
      await dispose();
    }
  },
};
