/**
 * The report of a run: Markdown for people, JSON for tools, and an SVG chart drawn by Vega-Lite
 * (last-20 latency against history size, log-log; throughput of the write workloads, log scale).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Contender } from './contender.js';
import type { MachineInfo } from './harness.js';
import type { TargetLine } from './targets.js';
import { type Cell, type Column, count, type Row, type Sizes, type WorkloadResult } from './workload.js';

/** Paths of the files a run wrote. */
/** One contender as the report describes it. */
export interface ContenderSummary {
  name: string;
  kind: Contender['kind'];
  engine: string;
  durabilityLabel: string;
  durability: string;
  cap?: string;
}

/** Everything a run measured; the JSON report is exactly this. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  quick: boolean;
  command: string;
  backends: string[];
  machine: MachineInfo;
  sizes: Sizes;
  contenders: ContenderSummary[];
  targets: TargetLine[];
  workloads: WorkloadResult[];
}

export interface ReportFiles {
  markdown: string;
  json: string;
  svg: string;
}

/**
 * Writes `<timestamp>.md`, `.json` and `.svg` into `dir` (created if missing).
 * @example const files = await writeReport(report, 'bench/results');
 */
export async function writeReport(report: BenchReport, dir: string): Promise<ReportFiles> {
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const files: ReportFiles = {
    markdown: join(out, `${stamp}.md`),
    json: join(out, `${stamp}.json`),
    svg: join(out, `${stamp}.svg`),
  };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.svg, await renderChart(report));
  await writeFile(files.markdown, renderMarkdown(report, `${stamp}.svg`));
  return files;
}

/** The whole report as Markdown; `chart` is the SVG's file name, linked from the top. */
export function renderMarkdown(report: BenchReport, chart?: string): string {
  const { machine } = report;
  const lines: string[] = [];
  lines.push(
    `# chatstore bench, ${report.startedAt}${report.quick ? ' (quick: tiny sizes, numbers not meaningful)' : ''}`,
  );
  lines.push('');
  lines.push(
    `\`${report.command}\` took ${report.durationSeconds} s. Method: bench/README.md.${chart === undefined ? '' : ` Chart: [${chart}](${chart}).`}`,
  );
  lines.push('');
  lines.push('## Machine');
  lines.push('');
  lines.push(
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memoryGiB} GiB (${machine.freeMemoryGiB} GiB free at start)`,
  );
  lines.push(`- load average at start (1/5/15 min): ${machine.loadAverage.join(' / ')}`);
  lines.push(`- ${machine.os}; Node ${machine.node}${machine.gcExposed ? ' (--expose-gc)' : ''}`);
  lines.push(
    `- ${Object.entries(machine.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(
        ', ',
      )}${machine.sqlite === undefined ? '' : `; SQLite ${machine.sqlite}`}${machine.redis === undefined ? '' : `; Redis server ${machine.redis}`}`,
  );
  if (machine.gitCommit !== undefined) lines.push(`- commit ${machine.gitCommit}`);
  lines.push('');
  lines.push('## Contenders and durability');
  lines.push('');
  lines.push(
    'Rows with different durability are not equivalent: a contender that does not fsync each commit is doing less work than one that does. Every table repeats the durability of each row.',
  );
  lines.push('');
  lines.push(
    table(
      ['contender', 'engine', 'durability', 'cap'],
      report.contenders.map((c) => [c.name, c.engine, c.durability, c.cap ?? 'none']),
    ),
  );
  if (report.targets.length > 0) {
    lines.push('');
    lines.push('## Targets (the issues that brought each backend)');
    lines.push('');
    lines.push(
      table(
        ['target', 'measured', 'met?'],
        report.targets.map((t) => [t.target, t.measured, t.met === null ? 'not measured' : t.met ? 'yes' : '**no**']),
      ),
    );
  }
  for (const workload of report.workloads) {
    lines.push('');
    lines.push(`## ${workload.title}`);
    lines.push('');
    lines.push(workload.method);
    lines.push('');
    lines.push(workloadTable(workload));
    const details = workloadDetails(workload);
    if (details !== '') {
      lines.push('');
      lines.push(details);
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** One workload's table: contender, durability, its columns, and a note (caps, skips, errors). */
export function workloadTable(workload: WorkloadResult): string {
  const header = ['contender', 'durability', ...workload.columns.map((c) => c.label), 'note'];
  const body = workload.rows.map((row) => [
    row.contender,
    row.durability,
    ...workload.columns.map((column) => cell(row, column)),
    noteOf(row),
  ]);
  return table(header, body);
}

/**
 * The rows' details under the table, one list per contender (W1L on PostgreSQL: its tables' tuples
 * and index sizes); empty when no row has any.
 */
export function workloadDetails(workload: WorkloadResult): string {
  return workload.rows
    .filter((row) => row.detail !== undefined && row.detail !== '')
    .map((row) => [`${row.contender}:`, ...(row.detail ?? '').split('\n').map((line) => `- ${line}`)].join('\n'))
    .join('\n\n');
}

function noteOf(row: Row): string {
  if (row.status === 'ok') return row.note ?? '';
  if (row.status === 'capped' || row.status === 'skipped') return row.note ?? row.status;
  return `${row.status}: ${row.note ?? ''}`;
}

function cell(row: Row, column: Column): string {
  if (row.status === 'n/a') return 'n/a';
  return format(row.cells[column.key], column.digits ?? 0);
}

function format(value: Cell | undefined, digits: number): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: string[], rows: string[][]): string {
  const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The chart: a Vega-Lite spec compiled to Vega and rendered to SVG headlessly. */
export async function renderChart(report: BenchReport): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(chartSpec(report) as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The Vega-Lite spec, plain data: latency panel on top, throughput panel below. */
export function chartSpec(report: BenchReport): Record<string, unknown> {
  const latency = (report.workloads.find((w) => w.id === 'W3')?.rows ?? []).flatMap((row) =>
    row.status === 'ok' && typeof row.cells.size === 'number'
      ? (['p50', 'p99'] as const).flatMap((stat) => {
          const value = row.cells[stat];
          return typeof value === 'number' ? [{ contender: row.contender, size: row.cells.size, stat, ms: value }] : [];
        })
      : [],
  );
  const throughputOf: Record<string, string> = {
    W1: 'W1 sequential',
    W2: 'W2 8 concurrent writers',
    W6: 'W6 bulk import',
    W1L: 'W1L long sequential',
  };
  const throughput = report.workloads
    .filter((w) => w.id in throughputOf)
    .flatMap((w) =>
      w.rows.flatMap((row) => {
        const value = row.cells.msgPerSec;
        return (row.status === 'ok' || row.status === 'capped') && typeof value === 'number' && value > 0
          ? [
              {
                contender: row.contender,
                workload:
                  typeof row.cells.conversations === 'number'
                    ? `${throughputOf[w.id]}, ${count(row.cells.conversations)} conversation${row.cells.conversations === 1 ? '' : 's'}`
                    : throughputOf[w.id],
                msgPerSec: value,
                capped: row.status === 'capped',
              },
            ]
          : [];
      }),
    );
  const panels: Record<string, unknown>[] = [];
  if (latency.length > 0) {
    panels.push({
      title: 'W3: last-20 read latency against history size (one conversation; log-log; solid p50, dashed p99)',
      width: 560,
      height: 300,
      data: { values: latency },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'size', type: 'quantitative', scale: { type: 'log' }, title: 'messages in the conversation' },
        y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms)' },
        color: { field: 'contender', type: 'nominal', title: 'contender', legend: { labelLimit: 400 } },
        strokeDash: {
          field: 'stat',
          type: 'nominal',
          title: 'percentile',
          legend: { symbolType: 'stroke', symbolStrokeColor: '#333', symbolStrokeWidth: 2 },
        },
        detail: { field: 'stat' },
      },
    });
  }
  if (throughput.length > 0) {
    panels.push({
      title: 'Append throughput per contender (msg/s, log scale; hollow = capped by time)',
      width: 560,
      data: { values: throughput },
      mark: { type: 'point', size: 90, filled: true, strokeWidth: 1.5 },
      encoding: {
        y: { field: 'contender', type: 'nominal', title: null, sort: null, axis: { labelLimit: 400 } },
        x: { field: 'msgPerSec', type: 'quantitative', scale: { type: 'log' }, title: 'messages per second' },
        color: { field: 'workload', type: 'nominal', title: 'workload', legend: { labelLimit: 400 } },
        shape: { field: 'workload', type: 'nominal', title: 'workload' },
        stroke: { field: 'workload', type: 'nominal', legend: null },
        fillOpacity: { condition: { test: 'datum.capped', value: 0 }, value: 1 },
        tooltip: [{ field: 'contender' }, { field: 'workload' }, { field: 'msgPerSec', format: ',.0f' }],
      },
    });
  }
  if (panels.length === 0) {
    panels.push({
      title: 'nothing to chart: this run measured neither W3 nor a write workload',
      data: { values: [{}] },
      mark: 'text',
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `chatstore bench ${report.startedAt}${report.quick ? ' (quick)' : ''}`,
    background: 'white',
    padding: 16,
    vconcat: panels,
    resolve: { scale: { color: 'independent', shape: 'independent', fill: 'independent', strokeDash: 'independent' } },
  };
}
