/**
 * The issues' speed targets for each backend, checked against one run's numbers and printed as
 * "target / measured / met?" lines. Each backend's targets are data (`TARGETS`), checked by a few
 * kinds of rule. A target whose numbers this run did not produce says so (met: null) instead of
 * passing. Printed, never asserted: no test depends on timing.
 */
import type { Row, WorkloadResult } from './workload.js';
import { count } from './workload.js';

/** @example { target: 'W1 FULL ≥ 0.7× raw', measured: '0.82×', met: true } */
export interface TargetLine {
  target: string;
  measured: string;
  /** null when the run did not measure what the target needs. */
  met: boolean | null;
}

/** "Flat" last-20 latency: p50 at the larger history at most this many times p50 at the smaller. */
export const FLAT_FACTOR = 1.5;

/** A throughput (`msgPerSec`) of one contender in one workload; `conversations` picks a W2 round. */
interface Throughput {
  workload: 'W1' | 'W2' | 'W6' | 'migrate';
  contender: string;
  conversations?: number;
  /** migrate: the row of this source. */
  source?: string;
}

type Target =
  /** `of` ≥ `atLeast` × `reference` (msg/s). */
  | { kind: 'ratio'; label: string; of: Throughput; reference: Throughput; atLeast: number }
  /** `of` ≥ `atLeast` msg/s. */
  | { kind: 'rate'; label: string; of: Throughput; atLeast: number }
  /** W3 p50 of `contender` ≤ `atMost` × `raw`'s at every size both measured. */
  | { kind: 'read-ratio'; label: string; contender: string; raw: string; atMost: number }
  /** W3 p50 of `contender` at the largest size in [from, to] ≤ FLAT_FACTOR × at the smallest. */
  | { kind: 'flat'; label: string; contender: string; from: number; to: number }
  /** W3 p50 of `contender` ≤ `atMostMs` at every size it measured. */
  | { kind: 'read-latency'; label: string; contender: string; atMostMs: number };

const w1 = (contender: string): Throughput => ({ workload: 'W1', contender });
const w2 = (contender: string, conversations: number): Throughput => ({ workload: 'W2', contender, conversations });

/** The usual pair for a server backend: appends against the floor, reads against the floor and flat. */
function appendAndRead(
  ours: string,
  raw: string,
  appends: number,
  reads: number,
  flatTo: number,
  issue: string,
): Target[] {
  return [
    {
      kind: 'ratio',
      label: `${issue}: W1 sequential appends ≥ ${appends}× ${raw}`,
      of: w1(ours),
      reference: w1(raw),
      atLeast: appends,
    },
    {
      kind: 'read-ratio',
      label: `${issue}: W3 last-20 p50 ≤ ${reads}× ${raw} at every size`,
      contender: ours,
      raw,
      atMost: reads,
    },
    {
      kind: 'flat',
      label: `${issue}: W3 last-20 p50 flat from 100 to ${count(flatTo)} (≤ ${FLAT_FACTOR}×)`,
      contender: ours,
      from: 100,
      to: flatTo,
    },
  ];
}

function postgresTargets(ours: string): Target[] {
  const issue = `#4 ${ours}`;
  return [
    {
      kind: 'ratio',
      label: `${issue}: W1 sequential appends ≥ 0.9× raw pg`,
      of: w1(ours),
      reference: w1('raw pg'),
      atLeast: 0.9,
    },
    {
      kind: 'ratio',
      label: `${issue}: W2 8 writers into one conversation ≥ raw pg`,
      of: w2(ours, 1),
      reference: w2('raw pg', 1),
      atLeast: 1,
    },
    {
      kind: 'ratio',
      label: `${issue}: W2 8 writers over many conversations ≥ 2× its own W1`,
      of: { workload: 'W2', contender: ours },
      reference: w1(ours),
      atLeast: 2,
    },
    {
      kind: 'read-ratio',
      label: `${issue}: W3 last-20 p50 ≤ 1.5× raw pg at every size`,
      contender: ours,
      raw: 'raw pg',
      atMost: 1.5,
    },
    {
      kind: 'flat',
      label: `${issue}: W3 last-20 p50 flat from 1k to 1M (≤ ${FLAT_FACTOR}×)`,
      contender: ours,
      from: 1000,
      to: 1_000_000,
    },
    {
      kind: 'rate',
      label: `${issue}: W6 bulk import ≥ 50,000 msg/s`,
      of: { workload: 'W6', contender: ours },
      atLeast: 50_000,
    },
  ];
}

/** #12: bulk import (W6) ≥ 0.5× the raw driver's batch path, and at least `rate` msg/s where the issue names one. */
function importTargets(ours: string, raw: string, rate?: number): Target[] {
  const w6 = (contender: string): Throughput => ({ workload: 'W6', contender });
  return [
    {
      kind: 'ratio',
      label: `#12 ${ours}: W6 bulk import ≥ 0.5× ${raw}`,
      of: w6(ours),
      reference: w6(raw),
      atLeast: 0.5,
    },
    ...(rate === undefined
      ? []
      : [
          {
            kind: 'rate',
            label: `#12 ${ours}: W6 bulk import ≥ ${count(rate)} msg/s`,
            of: w6(ours),
            atLeast: rate,
          } as const,
        ]),
  ];
}

/** #14: each migration source moves history at ≥ 0.5× the rate of `chatstore import` of the same messages. */
function migrateTargets(ours: string): Target[] {
  const of = (source: string): Throughput => ({ workload: 'migrate', contender: ours, source });
  return ['migrate json-file', 'migrate message-log'].map((source) => ({
    kind: 'ratio',
    label: `#14 ${ours}: ${source} ≥ 0.5× import (JSONL)`,
    of: of(source),
    reference: of('import (JSONL)'),
    atLeast: 0.5,
  }));
}

/** The in-process tier (#13) in front of `bare`: reads from it in microseconds, flat; appends through it near the bare engine's. */
function tierTargets(tiered: string, bare: string, flatTo: number): Target[] {
  return [
    {
      kind: 'read-latency',
      label: `#13 ${tiered}: W3 last-20 p50 from L1 ≤ 10 µs at every size`,
      contender: tiered,
      atMostMs: 0.01,
    },
    {
      kind: 'flat',
      label: `#13 ${tiered}: W3 last-20 p50 flat from 100 to ${count(flatTo)} (≤ ${FLAT_FACTOR}×)`,
      contender: tiered,
      from: 100,
      to: flatTo,
    },
    {
      kind: 'ratio',
      label: `#13 ${tiered}: W1 appends through the tier ≥ 0.9× ${bare}`,
      of: w1(tiered),
      reference: w1(bare),
      atLeast: 0.9,
    },
  ];
}

/** Each backend's targets, from the issue that brought it. */
const TARGETS: Readonly<Record<string, Target[]>> = {
  sqlite: [
    ...(['FULL', 'NORMAL'] as const).map(
      (mode): Target => ({
        kind: 'ratio',
        label: `#2: W1 sequential appends, ${mode}: chatstore ≥ 0.7× raw better-sqlite3 ${mode}`,
        of: w1(`chatstore sqlite ${mode}`),
        reference: w1(`raw better-sqlite3 ${mode}`),
        atLeast: 0.7,
      }),
    ),
    {
      kind: 'ratio',
      label: '#2: W2 8 writers into one conversation, FULL: ≥ 5× chatstore sequential FULL (group commit)',
      of: w2('chatstore sqlite FULL', 1),
      reference: w1('chatstore sqlite FULL'),
      atLeast: 5,
    },
    {
      kind: 'read-ratio',
      label: '#2: W3 last-20 p50, FULL: chatstore ≤ 2× raw at every size',
      contender: 'chatstore sqlite FULL',
      raw: 'raw better-sqlite3 FULL',
      atMost: 2,
    },
    {
      kind: 'flat',
      label: `#2: W3 last-20 p50 flat from 1k to 100k (≤ ${FLAT_FACTOR}×)`,
      contender: 'chatstore sqlite FULL',
      from: 1000,
      to: 100_000,
    },
    ...tierTargets('chatstore sqlite FULL + L1', 'chatstore sqlite FULL', 1_000_000),
    {
      kind: 'ratio',
      label: '#12: W1 sequential appends, NORMAL: chatstore ≥ 0.4× raw better-sqlite3 NORMAL',
      of: w1('chatstore sqlite NORMAL'),
      reference: w1('raw better-sqlite3 NORMAL'),
      atLeast: 0.4,
    },
    ...importTargets('chatstore sqlite FULL', 'raw better-sqlite3 FULL', 50_000),
    ...importTargets('chatstore sqlite NORMAL', 'raw better-sqlite3 NORMAL', 50_000),
    ...migrateTargets('chatstore sqlite FULL'),
    ...migrateTargets('chatstore sqlite NORMAL'),
  ],
  postgres: [
    ...postgresTargets('chatstore postgres'),
    ...postgresTargets('chatstore postgres-partitioned'),
    ...tierTargets('chatstore postgres + L1', 'chatstore postgres', 1_000_000),
    {
      kind: 'read-ratio',
      label: '#13 chatstore postgres + L2: W3 last-20 p50 from the shared tier ≤ the bare engine at every size',
      contender: 'chatstore postgres + L2',
      raw: 'chatstore postgres',
      atMost: 1,
    },
    {
      kind: 'ratio',
      label: '#12: W2 8 writers into one conversation ≥ 0.7× raw pg plain inserts without seq',
      of: w2('chatstore postgres', 1),
      reference: w2('raw pg, no seq', 1),
      atLeast: 0.7,
    },
    {
      kind: 'ratio',
      label: '#12: W1 sequential appends ≥ 0.8× raw pg',
      of: w1('chatstore postgres'),
      reference: w1('raw pg'),
      atLeast: 0.8,
    },
    ...importTargets('chatstore postgres', 'raw pg', 30_000),
    ...importTargets('chatstore postgres-partitioned', 'raw pg', 30_000),
    ...migrateTargets('chatstore postgres'),
  ],
  mysql: [
    ...appendAndRead('chatstore mysql', 'raw mysql2', 0.8, 1.5, 1_000_000, '#6 mysql'),
    {
      kind: 'read-ratio',
      label: '#13 chatstore mysql + L2: W3 last-20 p50 from the shared tier ≤ the bare engine at every size',
      contender: 'chatstore mysql + L2',
      raw: 'chatstore mysql',
      atMost: 1,
    },
    ...importTargets('chatstore mysql', 'raw mysql2'),
  ],
  redis: [
    ...appendAndRead('chatstore redis', 'raw ioredis', 0.8, 1.5, 1_000_000, '#6 redis'),
    ...importTargets('chatstore redis', 'raw ioredis'),
  ],
  'redis-cluster': appendAndRead(
    'chatstore redis-cluster',
    'raw ioredis cluster',
    0.8,
    1.5,
    100_000,
    '#6 redis-cluster',
  ),
};

/** @example const lines = evaluateTargets(report); */
export function evaluateTargets(report: { workloads: WorkloadResult[]; backends: string[] }): TargetLine[] {
  const measured = new Measured(report);
  return report.backends.flatMap((backend) => (TARGETS[backend] ?? []).map((target) => check(target, measured)));
}

/** The numbers of one run, looked up by workload, contender and row. */
class Measured {
  constructor(private readonly report: { workloads: WorkloadResult[] }) {}

  rows(workload: string, contender: string): Row[] {
    const rows = this.report.workloads.find((w) => w.id === workload)?.rows ?? [];
    return rows.filter((row) => row.contender === contender && (row.status === 'ok' || row.status === 'capped'));
  }

  /** msg/s; for W2 without `conversations`, the round over the most conversations. */
  throughput(of: Throughput): number | undefined {
    const rows = this.rows(of.workload, of.contender);
    const row =
      of.source !== undefined
        ? rows.find((r) => r.cells.source === of.source)
        : of.workload !== 'W2'
          ? rows[0]
          : of.conversations !== undefined
            ? rows.find((r) => r.cells.conversations === of.conversations)
            : [...rows].sort((a, b) => Number(b.cells.conversations) - Number(a.cells.conversations))[0];
    const value = row?.cells.msgPerSec;
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }

  /** W3 p50 by history size, ascending (fully measured sizes only). */
  latencies(contender: string): { size: number; p50: number }[] {
    return this.rows('W3', contender)
      .filter((row) => row.status === 'ok' && typeof row.cells.p50 === 'number' && typeof row.cells.size === 'number')
      .map((row) => ({ size: row.cells.size as number, p50: row.cells.p50 as number }))
      .sort((a, b) => a.size - b.size);
  }
}

function check(target: Target, measured: Measured): TargetLine {
  const notMeasured = { target: target.label, measured: 'not measured', met: null };
  switch (target.kind) {
    case 'ratio': {
      const value = measured.throughput(target.of);
      const reference = measured.throughput(target.reference);
      if (value === undefined || reference === undefined || reference === 0) return notMeasured;
      const ratio = value / reference;
      return {
        target: target.label,
        measured: `${rate(value)} vs ${rate(reference)} msg/s = ${ratio.toFixed(2)}×`,
        met: ratio >= target.atLeast,
      };
    }
    case 'rate': {
      const value = measured.throughput(target.of);
      if (value === undefined) return notMeasured;
      return { target: target.label, measured: `${rate(value)} msg/s`, met: value >= target.atLeast };
    }
    case 'read-ratio': {
      const raw = new Map(measured.latencies(target.raw).map((point) => [point.size, point.p50]));
      const paired = measured.latencies(target.contender).flatMap((point) => {
        const floor = raw.get(point.size);
        return floor === undefined ? [] : [{ ...point, raw: floor, ratio: point.p50 / floor }];
      });
      if (paired.length === 0) return notMeasured;
      const worst = paired.reduce((max, point) => (point.ratio > max.ratio ? point : max));
      return {
        target: target.label,
        measured: `worst at ${count(worst.size)}: ${ms(worst.p50)} vs ${ms(worst.raw)} = ${worst.ratio.toFixed(2)}× (sizes ${paired.map((p) => count(p.size)).join(', ')})`,
        met: worst.ratio <= target.atMost,
      };
    }
    case 'read-latency': {
      const points = measured.latencies(target.contender);
      if (points.length === 0) return notMeasured;
      const worst = points.reduce((max, point) => (point.p50 > max.p50 ? point : max));
      return {
        target: target.label,
        measured: `worst at ${count(worst.size)}: ${(worst.p50 * 1000).toFixed(1)} µs (sizes ${points.map((p) => count(p.size)).join(', ')})`,
        met: worst.p50 <= target.atMostMs,
      };
    }
    case 'flat': {
      const points = measured.latencies(target.contender);
      const inRange = points.filter((point) => point.size >= target.from && point.size <= target.to);
      // A run that did not reach the range (--quick) compares the widest span it has, and says so.
      const span = inRange.length >= 2 ? inRange : points;
      const from = span[0];
      const to = span[span.length - 1];
      if (from === undefined || to === undefined || to.size <= from.size) return notMeasured;
      const partial = from.size !== target.from || to.size !== target.to;
      return {
        target: target.label,
        measured: `${count(from.size)}: ${ms(from.p50)}, ${count(to.size)}: ${ms(to.p50)} = ${(to.p50 / from.p50).toFixed(2)}×${partial ? ` (this run measured ${count(from.size)} to ${count(to.size)})` : ''}`,
        met: to.p50 <= FLAT_FACTOR * from.p50,
      };
    }
  }
}

function rate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}
