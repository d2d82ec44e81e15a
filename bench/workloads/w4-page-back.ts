/** W4: paging back from the newest message to the first, in pages of 50, through the keyset cursor. */
import type { ContenderInstance } from '../contender.js';
import { now, percentile, summarize } from '../harness.js';
import { capText, deadlineFor, fill, type Workload } from '../workload.js';

const EDGE_PAGES = 10;

interface Pass {
  pageMs: number[];
  messages: number;
}

async function walk(instance: ContenderInstance, page: number): Promise<Pass> {
  const pageMs: number[] = [];
  let messages = 0;
  let cursor: string | number | undefined;
  do {
    const began = now();
    const result = await instance.pageBack('w4', cursor, page);
    pageMs.push(now() - began);
    messages += result.messages.length;
    cursor = result.next;
  } while (cursor !== undefined);
  return { pageMs, messages };
}

/** @example const rows = await w4PageBack.run(contender, context); */
export const w4PageBack: Workload = {
  id: 'W4',
  title: 'W4 paging back through one conversation',
  method: (sizes) =>
    `one conversation of ${sizes.w4Messages} messages; a pass pages from the newest to the first in pages of ${sizes.w4Page}; one warm-up pass, then ${sizes.w4Passes} timed passes. total = median pass; first/last pages = p50 of the ${EDGE_PAGES} newest / ${EDGE_PAGES} oldest pages over all passes.`,
  columns: [
    { key: 'messages', label: 'messages' },
    { key: 'pages', label: 'pages' },
    { key: 'totalMs', label: 'total ms', digits: 1 },
    { key: 'firstPagesMs', label: 'first pages ms', digits: 3 },
    { key: 'lastPagesMs', label: 'last pages ms', digits: 3 },
    { key: 'passes', label: 'passes' },
  ],
  async run(contender, context) {
    const { w4Messages, w4Page, w4Passes } = context.sizes;
    const { instance, dispose } = await context.open(contender);
    try {
      const deadline = deadlineFor(contender);
      const filled = await fill(instance, 'w4', 0, w4Messages, { batch: 1000, deadline });
      if (filled.stoppedBy !== undefined) {
        return [
          {
            status: 'capped',
            note: `capped at ${capText(contender)}: filling stopped at ${filled.filled}`,
            cells: {
              messages: filled.filled,
              pages: null,
              totalMs: null,
              firstPagesMs: null,
              lastPagesMs: null,
              passes: 0,
            },
          },
        ];
      }
      const warm = await walk(instance, w4Page);
      if (warm.messages !== w4Messages) throw new Error(`paged through ${warm.messages} of ${w4Messages} messages`);
      const passes: Pass[] = [];
      while (passes.length < w4Passes && (passes.length === 0 || now() < deadline)) {
        passes.push(await walk(instance, w4Page));
      }
      const totals = summarize(passes.map((pass) => pass.pageMs.reduce((sum, ms) => sum + ms, 0)));
      const first = passes.flatMap((pass) => pass.pageMs.slice(0, EDGE_PAGES)).sort((a, b) => a - b);
      const last = passes.flatMap((pass) => pass.pageMs.slice(-EDGE_PAGES)).sort((a, b) => a - b);
      const capped = passes.length < w4Passes;
      return [
        {
          status: capped ? 'capped' : 'ok',
          ...(capped ? { note: `capped at ${capText(contender)}: ${passes.length} of ${w4Passes} passes` } : {}),
          cells: {
            messages: w4Messages,
            pages: warm.pageMs.length,
            totalMs: totals.p50,
            firstPagesMs: percentile(first, 50),
            lastPagesMs: percentile(last, 50),
            passes: passes.length,
          },
        },
      ];
    } finally {
      await dispose();
    }
  },
};
