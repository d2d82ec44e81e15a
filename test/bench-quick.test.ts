/**
 * The bench harness runs end to end (so it never rots) and its correctness columns are right.
 * No timing is asserted anywhere: numbers on a shared CI machine mean nothing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { percentile } from '../bench/harness.js';
import { runBench } from '../bench/runner.js';
import { evaluateTargets } from '../bench/targets.js';
import type { Row, WorkloadResult } from '../bench/workload.js';
import { checkConcurrentWrites } from '../bench/workloads/w2-concurrent.js';

const out = await mkdtemp(join(tmpdir(), 'chatstore-bench-test-'));
afterAll(() => rm(out, { recursive: true, force: true }));

describe('bench harness', () => {
  test('a tiny run over memory writes the report and chatstore loses, duplicates and misorders nothing', async () => {
    const { report, files } = await runBench({
      backends: ['memory'],
      quick: true,
      naive: ['json-file'],
      out,
      log: () => {},
      sizes: {
        w1Appends: 20,
        w1Warmup: 5,
        w2Writers: 8,
        w2PerWriter: 10,
        w3Sizes: [50, 200],
        w3Reads: 10,
        w4Messages: 200,
        w4Passes: 1,
        w5Messages: 300,
        w5Conversations: 10,
        w5Queries: 3,
        w6Messages: 300,
        w6Conversations: 3,
        w6Batch: 50,
        sampleBudgetMs: 500,
      },
    });

    for (const file of [files.markdown, files.json, files.svg]) expect(existsSync(file)).toBe(true);
    expect(JSON.parse(await readFile(files.json, 'utf8'))).toStrictEqual(JSON.parse(JSON.stringify(report)));
    expect((await readFile(files.svg, 'utf8')).startsWith('<svg')).toBe(true);
    const markdown = await readFile(files.markdown, 'utf8');
    for (const id of ['W1', 'W2', 'W3', 'W4', 'W5', 'W6']) expect(markdown).toContain(`## ${id} `);

    expect(report.workloads.map((w) => w.id)).toEqual(['W1', 'W2', 'W3', 'W4', 'W5', 'W6']);
    const errors = report.workloads.flatMap((w) => w.rows.filter((row) => row.status === 'error'));
    expect(errors).toEqual([]);
    const w2 = report.workloads.find((w) => w.id === 'W2')?.rows.filter((row) => row.contender === 'chatstore memory');
    expect(w2?.map((row) => row.status)).toEqual(['ok', 'ok']);
    const clean = { acked: 80, stored: 80, lost: 0, duplicated: 0, misordered: 0, failed: 0 };
    expect(w2?.map((row) => row.cells)).toMatchObject([
      { conversations: 1, ...clean },
      { conversations: 20, ...clean },
    ]);
    const w3 = report.workloads.find((w) => w.id === 'W3')?.rows.filter((row) => row.contender === 'chatstore memory');
    expect(w3?.map((row) => [row.status, row.cells.size])).toEqual([
      ['ok', 50],
      ['ok', 200],
    ]);
  });
});

describe('W1L long sequential appends (opt-in)', () => {
  test('runs only when named, reports the rate per block and the storage per message of each SQLite contender', async () => {
    const { report, files } = await runBench({
      backends: ['memory', 'sqlite'],
      quick: true,
      workloads: ['w1l'],
      naive: [],
      out,
      log: () => {},
      sizes: { w1Warmup: 5, w1lAppends: 300, w1lBlock: 100, w1lConversations: 20 },
    });

    expect(report.workloads.map((w) => w.id)).toEqual(['W1L']);
    expect(report.command).toContain('--workloads W1L');
    expect(await readFile(files.markdown, 'utf8')).toContain('## W1L ');
    const rows = report.workloads[0]?.rows ?? [];
    expect(rows.map((row) => [row.contender, row.status])).toEqual([
      ['chatstore memory', 'ok'],
      ['chatstore sqlite FULL', 'ok'],
      ['raw better-sqlite3 FULL', 'ok'],
      // the tier passes appends to the engine: W1L is measured on the bare row
      ['chatstore sqlite FULL + L1', 'skipped'],
      ['chatstore sqlite NORMAL', 'ok'],
      ['raw better-sqlite3 NORMAL', 'ok'],
    ]);
    for (const row of rows.filter((measured) => measured.status === 'ok')) {
      expect(row.cells.appends).toBe(300);
      for (const key of ['msgPerSec', 'firstBlockMsgPerSec', 'lastBlockMsgPerSec', 'lastOverFirst']) {
        expect(row.cells[key]).toBeTypeOf('number');
        expect(row.cells[key] as number).toBeGreaterThan(0);
      }
      expect(row.series?.blockMsgPerSec).toHaveLength(3);
      expect(row.series?.blockMsgPerSec?.[0]).toBe(row.cells.firstBlockMsgPerSec);
      expect(row.series?.blockMsgPerSec?.[2]).toBe(row.cells.lastBlockMsgPerSec);
      expect(row.note).toMatch(/^per 100: [\d,]+ · [\d,]+ · [\d,]+/);
      if (row.contender.includes('sqlite')) {
        expect(row.cells.bytesPerMessage).toBeTypeOf('number');
        expect(row.cells.bytesPerMessage as number).toBeGreaterThan(0);
      } else {
        expect(row.cells.bytesPerMessage).toBeNull();
      }
    }
  });
});

describe('bench measurements', () => {
  test('percentiles are nearest-rank over sorted samples', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(hundred, 50), percentile(hundred, 99), percentile(hundred, 100)]).toEqual([50, 99, 100]);
    expect([percentile([1, 2, 3, 4], 50), percentile([7], 99), percentile([], 50)]).toEqual([2, 7, Number.NaN]);
  });

  test('lost, duplicated and misordered are counted from what writers were told', () => {
    const stored = [
      { seq: 1, metadata: { writer: 0, n: 0 } },
      { seq: 2, metadata: { writer: 1, n: 1 } },
      { seq: 3, metadata: { writer: 1, n: 0 } },
      { seq: 4, metadata: { writer: 0, n: 0 } },
    ];
    const acknowledged = new Set(['0:0', '0:1', '1:0', '1:1']);
    expect(checkConcurrentWrites(acknowledged, stored)).toStrictEqual({
      stored: 4,
      lost: 1,
      duplicated: 1,
      misordered: 1,
    });
  });

  test("targets are checked per backend from the run's rows; what was not measured is never met", () => {
    const row = (contender: string, cells: Row['cells']): Row => ({ contender, durability: '', status: 'ok', cells });
    const workload = (id: WorkloadResult['id'], rows: Row[]): WorkloadResult => ({
      id,
      title: id,
      method: '',
      columns: [],
      rows,
    });
    const lines = evaluateTargets({
      backends: ['postgres'],
      workloads: [
        workload('W1', [row('chatstore postgres', { msgPerSec: 900 }), row('raw pg', { msgPerSec: 1000 })]),
        workload('W2', [
          row('chatstore postgres', { conversations: 1, msgPerSec: 800 }),
          row('chatstore postgres', { conversations: 200, msgPerSec: 3000 }),
          row('raw pg', { conversations: 1, msgPerSec: 700 }),
        ]),
        workload('W3', [
          row('chatstore postgres', { size: 1000, p50: 0.2 }),
          row('chatstore postgres', { size: 1_000_000, p50: 0.4 }),
          row('raw pg', { size: 1000, p50: 0.1 }),
          row('raw pg', { size: 1_000_000, p50: 0.3 }),
        ]),
        workload('W6', [row('chatstore postgres', { msgPerSec: 26_000 }), row('raw pg', { msgPerSec: 50_000 })]),
      ],
    });
    const plain = lines.filter((line) => line.target.startsWith('#4 chatstore postgres:'));
    expect(plain.map((line) => line.met)).toEqual([true, true, true, false, false, false]);
    const imports = lines.filter((line) => line.target.startsWith('#12 chatstore postgres: W6'));
    expect(imports.map(({ measured, met }) => ({ measured, met }))).toEqual([
      { measured: '26,000 vs 50,000 msg/s = 0.52×', met: true },
      { measured: '26,000 msg/s', met: false },
    ]);
    expect(plain[3]?.measured).toBe('worst at 1k: 0.200 ms vs 0.100 ms = 2.00× (sizes 1k, 1M)');
    expect(
      lines.filter((line) => line.target.startsWith('#4 chatstore postgres-partitioned')).every((l) => l.met === null),
    ).toBe(true);
    expect(evaluateTargets({ backends: ['memory'], workloads: [] })).toEqual([]);
  });

  test('W7 runs only when named and gives the hit ratio of the first tier, none without tiers', async () => {
    const { report } = await runBench({
      backends: ['sqlite'],
      quick: true,
      workloads: ['W7'],
      naive: [],
      out,
      log: () => {},
    });
    expect(report.workloads.map((w) => w.id)).toEqual(['W7']);
    const rows = report.workloads[0]?.rows ?? [];
    const byName = new Map(rows.map((row) => [row.contender, row]));
    const tiered = byName.get('chatstore sqlite FULL + L1');
    expect(tiered?.status).toBe('ok');
    expect(tiered?.cells.hitRatio as number).toBeGreaterThan(0.5);
    expect(tiered?.cells.reads).toBe(500);
    expect(byName.get('chatstore sqlite FULL')?.cells.hitRatio).toBeNull();
    expect(byName.get('raw better-sqlite3 FULL')?.cells.p50).toBeTypeOf('number');
  });

  test('degrade runs only when named: the shared tier over PostgreSQL loses, fails and serves stale nothing while its Redis dies', async () => {
    const { report } = await runBench({
      backends: ['postgres'],
      quick: true,
      workloads: ['degrade'],
      naive: [],
      out,
      log: () => {},
    });
    expect(report.workloads.map((w) => w.id)).toEqual(['degrade']);
    const rows = (report.workloads[0]?.rows ?? []).filter((row) => row.contender === 'chatstore postgres + L2');
    expect(rows.map((row) => row.cells.phase)).toEqual(['before', 'Redis down', 'after restart']);
    for (const row of rows) {
      expect(row.status).toBe('ok');
      expect(row.cells.turnsPerSec as number).toBeGreaterThan(0);
      expect(row.cells.failed).toBe(0);
      expect(row.cells.stale).toBe(0);
    }
    expect(rows[2]?.cells.lost).toBe(0);
    const others = (report.workloads[0]?.rows ?? []).filter((row) => row.contender !== 'chatstore postgres + L2');
    for (const row of others) expect(row.status).toBe('n/a');
  });

  test('archive runs only when named: every bare chatstore row archives, reads back and restores', async () => {
    const { report } = await runBench({
      backends: ['sqlite'],
      quick: true,
      workloads: ['archive'],
      naive: [],
      out,
      log: () => {},
    });
    expect(report.workloads.map((w) => w.id)).toEqual(['archive']);
    const rows = report.workloads[0]?.rows ?? [];
    const byName = new Map(rows.map((row) => [row.contender, row]));
    const bare = byName.get('chatstore sqlite FULL');
    expect(bare?.status).toBe('ok');
    expect(bare?.cells.conversations).toBe(20);
    for (const key of ['dbRead', 'archiveMs', 'bytesPerMessage', 'coldRead', 'warmRead', 'restore']) {
      expect(bare?.cells[key], key).toBeGreaterThan(0);
    }
    expect(byName.get('chatstore sqlite FULL + L1')?.status).toBe('skipped');
    expect(byName.get('raw better-sqlite3 FULL')?.status).toBe('n/a');
  });

  test('webhook runs only when named: the delivery through the app beside the plain append, as a ratio', async () => {
    const { report } = await runBench({
      backends: ['sqlite'],
      quick: true,
      workloads: ['webhook'],
      naive: [],
      out,
      log: () => {},
    });
    expect(report.workloads.map((w) => w.id)).toEqual(['webhook']);
    const rows = (report.workloads[0]?.rows ?? []).filter((row) => row.contender === 'chatstore sqlite FULL');
    expect(rows.map((row) => [row.status, row.cells.path])).toEqual([
      ['ok', 'POST /webhooks/whatsapp (sign, parse, append)'],
      ['ok', 'store.append of the same 100'],
    ]);
    expect(rows[0]?.cells.ratio).toBeGreaterThan(0);
    expect(rows[1]?.cells.msgPerSec).toBeGreaterThan(0);
  });
  test("worker runs only when named: the client against the Node server, the Worker in workerd and the bare Worker, and the object's own time", async () => {
    const { report } = await runBench({
      backends: ['memory'],
      quick: true,
      workloads: ['worker'],
      naive: [],
      out,
      log: () => {},
      sizes: {
        workerAppends: 6,
        workerReads: 6,
        workerRounds: 2,
        workerWarmup: 2,
        workerHistory: 30,
        workerDirect: 4,
        workerCallers: 3,
      },
    });
    expect(report.workloads.map((w) => w.id)).toEqual(['worker']);
    expect(report.command).toContain('--workloads worker');
    const rows = report.workloads[0]?.rows ?? [];
    const targets = [
      'client → Node server (chatstore memory)',
      'client → chatstore Worker (Durable Objects)',
      'client → bare Worker (the floor)',
      'fetch → bare Worker',
    ];
    const inside = 'inside the ConversationObject (Server-Timing)';
    expect(rows.map((row) => [row.status, row.cells.operation, row.cells.target, row.cells.n])).toEqual([
      ...targets.map((target) => ['ok', 'append 1', target, 6]),
      ['ok', 'append 1', inside, 4],
      ...targets.map((target) => ['ok', 'recent 20 of 30', target, 6]),
      ['ok', 'recent 20 of 30', inside, 4],
      ...targets.map((target) => ['ok', 'append 1, 3 callers at once', target, 6]),
    ]);
    for (const row of rows) {
      for (const key of ['p50', 'p99', 'mean'])
        expect(row.cells[key], `${row.cells.target} ${key}`).toBeGreaterThanOrEqual(0);
      if (row.cells.target === inside) {
        // Rows written per call by the conversation's object and by the directory: reads write none.
        expect(row.cells.rowsWritten).toMatch(
          row.cells.operation === 'append 1' ? /^[1-9][\d.]* \+ [1-9][\d.]* directory$/ : /^0\.0 \+ 0\.0 directory$/,
        );
        continue;
      }
      expect(row.cells.perSecond).toBeGreaterThan(0);
      expect(row.cells.vsFloor).toBeGreaterThan(0);
      if (row.cells.target === targets[1]) expect(row.cells.vsNode).toBeGreaterThan(0);
      else expect(row.cells.vsNode).toBeNull();
    }
    expect(rows.filter((row) => row.cells.target === targets[2]).map((row) => row.cells.vsFloor)).toEqual([1, 1, 1]);
    // The object's own time is read from its Server-Timing, and the clock it comes from is checked.
    expect(rows.find((row) => row.detail !== undefined)?.cells).toMatchObject({
      operation: 'recent 20 of 30',
      target: inside,
    });
    expect(rows.find((row) => row.detail !== undefined)?.detail).toMatch(
      /^workerd's clock, checked in the bare Worker: /,
    );
  });
});
