/**
 * W1L (opt-in, `--workloads W1L`): W1 run long. One client appends one message at a time over many
 * conversations, timed per block, so a store that slows down as its tables grow shows it; then the
 * storage everything takes (bytes per message; on PostgreSQL, live and dead tuples and every
 * index's size per table).
 */
import type { NewMessage } from '../../src/model.js';
import type { Footprint } from '../contender.js';
import { benchMessage, benchMessages } from '../data.js';
import { now } from '../harness.js';
import { byteSize, capText, count, deadlineFor, type Workload } from '../workload.js';

/** @example const rows = await w1Long.run(contender, context); */
export const w1Long: Workload = {
  id: 'W1L',
  title: 'W1L long sequential appends (rate per block, storage after the run)',
  method: (sizes) =>
    `${count(sizes.w1lAppends)} appends, one at a time (awaiting each), message k into conversation k mod ${sizes.w1lConversations}, after ${sizes.w1Warmup} warm-up appends into another conversation; timed per block of ${count(sizes.w1lBlock)} (a block's data is generated before its timing starts). msg/s = appends / time spent appending; first/last block = msg/s of the first and the last block, last/first their ratio (below 1: appends slowed down as the store grew); every block's rate is in the note (and the JSON). bytes/msg = the storage the contender takes after the run ÷ messages stored, warm-up included (SQLite: database file + WAL + shared-memory file; PostgreSQL: every table of the schema with TOAST and indexes; MySQL: InnoDB data + index length after ANALYZE TABLE); empty where the contender cannot tell. Below the table, per table: live and dead tuples, updates (HOT) and index sizes (PostgreSQL), read after letting each connection publish its counters.`,
  columns: [
    { key: 'appends', label: 'appends' },
    { key: 'msgPerSec', label: 'msg/s' },
    { key: 'firstBlockMsgPerSec', label: 'first block msg/s' },
    { key: 'lastBlockMsgPerSec', label: 'last block msg/s' },
    { key: 'lastOverFirst', label: 'last/first', digits: 2 },
    { key: 'bytesPerMessage', label: 'bytes/msg' },
  ],
  async run(contender, context) {
    const { w1lAppends: total, w1lBlock: blockSize, w1lConversations: conversations, w1Warmup } = context.sizes;
    const warmup = benchMessages('w1l-warmup', 0, w1Warmup);
    const { instance, dispose } = await context.open(contender);
    try {
      for (const message of warmup) await instance.append('w1l-warmup', message);
      const deadline = deadlineFor(contender);
      /** msg/s of each block, in order; the last one is partial when the run was capped. */
      const blocks: number[] = [];
      let appended = 0;
      let spentMs = 0;
      let capped = false;
      while (appended < total && !capped) {
        const block: [string, NewMessage][] = [];
        for (let k = appended; k < Math.min(appended + blockSize, total); k++) {
          const conversationId = `w1l-${k % conversations}`;
          block.push([conversationId, benchMessage(conversationId, Math.floor(k / conversations))]);
        }
        let done = 0;
        const began = now();
        for (const [conversationId, message] of block) {
          if (now() > deadline) {
            capped = true;
            break;
          }
          await instance.append(conversationId, message);
          done += 1;
        }
        const ms = now() - began;
        spentMs += ms;
        appended += done;
        if (done > 0) {
          blocks.push((done / ms) * 1000);
          context.log(`${contender.name}: ${count(appended)} appends, ${rate(blocks.at(-1) ?? 0)} msg/s in this block`);
        }
      }

      const notes: string[] = [];
      if (capped) {
        notes.push(
          `capped at ${capText(contender)}: ${appended.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} appends (last block partial)`,
        );
      }
      if (blocks.length > 0) notes.push(`per ${count(blockSize)}: ${blocks.map(rate).join(' · ')}`);
      const stored = w1Warmup + appended;
      let footprint: Footprint | undefined;
      if (instance.footprint !== undefined) {
        try {
          footprint = await instance.footprint();
          notes.push(`storage ${byteSize(footprint.bytes)} for ${stored.toLocaleString('en-US')} messages`);
        } catch (error) {
          notes.push(`storage not measured: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      const first = blocks[0];
      const last = blocks.at(-1);
      return [
        {
          status: capped ? 'capped' : 'ok',
          ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
          cells: {
            appends: appended,
            msgPerSec: spentMs > 0 ? (appended / spentMs) * 1000 : null,
            firstBlockMsgPerSec: first ?? null,
            lastBlockMsgPerSec: last ?? null,
            lastOverFirst: first !== undefined && last !== undefined && first > 0 ? last / first : null,
            bytesPerMessage: footprint !== undefined && stored > 0 ? footprint.bytes / stored : null,
          },
          series: { blockMsgPerSec: blocks },
          ...(footprint?.detail === undefined ? {} : { detail: footprint.detail }),
        },
      ];
    } finally {
      await dispose();
    }
  },
};

/** "1,090" */
function rate(msgPerSec: number): string {
  return Math.round(msgPerSec).toLocaleString('en-US');
}
