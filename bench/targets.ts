/**
 * The foundation issue's targets for the sqlite backend, checked against one run's numbers and
 * printed as "target / measured / met?" lines. A target whose numbers this run did not produce says
 * so (met: null) instead of passing.
 */
import type { BenchReport } from './runner.js';
import type { Row } from './workload.js';
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

const CHATSTORE = { full: 'chatstore sqlite FULL', normal: 'chatstore sqlite NORMAL' } as const;
const RAW = { full: 'raw better-sqlite3 FULL', normal: 'raw better-sqlite3 NORMAL' } as const;

/** @example const lines = evaluateTargets(report); */
export function evaluateTargets(report: Pick<BenchReport, 'workloads' | 'backends'>): TargetLine[] {
  if (!report.backends.includes('sqlite')) return [];
  const rows = (workload: string) => report.workloads.find((w) => w.id === workload)?.rows ?? [];
  const measured = (workload: string, contender: string, key: string, where: (row: Row) => boolean = () => true) => {
    const row = rows(workload).find(
      (r) => r.contender === contender && (r.status === 'ok' || r.status === 'capped') && where(r),
    );
    const value = row?.cells[key];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  };
  const lines: TargetLine[] = [];

  for (const mode of ['full', 'normal'] as const) {
    const ours = measured('W1', CHATSTORE[mode], 'msgPerSec');
    const raw = measured('W1', RAW[mode], 'msgPerSec');
    lines.push(
      ratioLine(
        `W1 sequential appends, ${mode.toUpperCase()}: chatstore ≥ 0.7× raw better-sqlite3 ${mode.toUpperCase()}`,
        ours,
        raw,
        {
          unit: 'msg/s',
          atLeast: 0.7,
        },
      ),
    );
  }

  const concurrent = measured('W2', CHATSTORE.full, 'msgPerSec', (row) => row.cells.conversations === 1);
  const sequential = measured('W1', CHATSTORE.full, 'msgPerSec');
  lines.push(
    ratioLine('W2 8 concurrent writers, FULL: ≥ 5× chatstore sequential FULL (group commit)', concurrent, sequential, {
      unit: 'msg/s',
      atLeast: 5,
      names: ['W2', 'W1'],
    }),
  );

  const sizes = (contender: string) =>
    rows('W3')
      .filter((row) => row.contender === contender && row.status === 'ok' && typeof row.cells.p50 === 'number')
      .map((row) => ({ size: row.cells.size as number, p50: row.cells.p50 as number }));
  const ours = sizes(CHATSTORE.full);
  const raw = new Map(sizes(RAW.full).map((entry) => [entry.size, entry.p50]));
  const paired = ours.flatMap((entry) => {
    const floor = raw.get(entry.size);
    return floor === undefined ? [] : [{ ...entry, raw: floor, ratio: entry.p50 / floor }];
  });
  const worst = paired.reduce<(typeof paired)[number] | undefined>(
    (max, entry) => (max === undefined || entry.ratio > max.ratio ? entry : max),
    undefined,
  );
  lines.push(
    worst === undefined
      ? { target: 'W3 last-20 read p50, FULL: chatstore ≤ 2× raw at every size', measured: 'not measured', met: null }
      : {
          target: 'W3 last-20 read p50, FULL: chatstore ≤ 2× raw at every size',
          measured: `worst at ${count(worst.size)}: ${ms(worst.p50)} vs ${ms(worst.raw)} = ${worst.ratio.toFixed(2)}× (sizes ${paired.map((p) => count(p.size)).join(', ')})`,
          met: worst.ratio <= 2,
        },
  );

  const flat = flatSpan(ours);
  lines.push(
    flat === undefined
      ? { target: `W3 last-20 read p50 flat from 1k to 100k (≤ ${FLAT_FACTOR}×)`, measured: 'not measured', met: null }
      : {
          target: `W3 last-20 read p50 flat from 1k to 100k (p50 at the larger ≤ ${FLAT_FACTOR}× at the smaller)`,
          measured: `${count(flat.from.size)}: ${ms(flat.from.p50)}, ${count(flat.to.size)}: ${ms(flat.to.p50)} = ${(flat.to.p50 / flat.from.p50).toFixed(2)}×${flat.to.size < 100_000 ? ` (this run stops at ${count(flat.to.size)})` : ''}`,
          met: flat.to.p50 <= FLAT_FACTOR * flat.from.p50,
        },
  );
  return lines;
}

/** The 1k → 100k span when measured; otherwise the widest span this run has. */
function flatSpan(
  points: { size: number; p50: number }[],
): { from: (typeof points)[number]; to: (typeof points)[number] } | undefined {
  if (points.length < 2) return undefined;
  const sorted = [...points].sort((a, b) => a.size - b.size);
  const from = sorted.find((p) => p.size >= 1000) ?? sorted[0];
  const to = [...sorted].reverse().find((p) => p.size <= 100_000) ?? sorted[sorted.length - 1];
  if (from === undefined || to === undefined) return undefined;
  if (to.size > from.size) return { from, to };
  const smallest = sorted[0];
  const largest = sorted[sorted.length - 1];
  return smallest === undefined || largest === undefined ? undefined : { from: smallest, to: largest };
}

function ratioLine(
  target: string,
  value: number | undefined,
  reference: number | undefined,
  options: { unit: string; atLeast: number; names?: [string, string] },
): TargetLine {
  if (value === undefined || reference === undefined || reference === 0)
    return { target, measured: 'not measured', met: null };
  const ratio = value / reference;
  const [a, b] = options.names ?? ['', ''];
  const left = a === '' ? '' : `${a} `;
  const right = b === '' ? '' : `${b} `;
  return {
    target,
    measured: `${left}${Math.round(value).toLocaleString('en-US')} vs ${right}${Math.round(reference).toLocaleString('en-US')} ${options.unit} = ${ratio.toFixed(2)}×`,
    met: ratio >= options.atLeast,
  };
}

function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}
