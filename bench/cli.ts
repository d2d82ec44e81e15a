/**
 * The command-line face of the runner, shared by `npm run bench` (bench/run.ts) and
 * `chatstore bench` (src/cli/bench.ts): flags in, tables out, an exit code back.
 */
import type { Writable } from 'node:stream';
import { renderMarkdown } from './report.js';
import { runBench } from './runner.js';

/** The flags both entry points take, as commander and parseArgs give them. */
export interface BenchFlags {
  backend?: string;
  quick?: boolean;
  out?: string;
  workloads?: string;
  /** A list of naive designs, `true` for all (the default), `false` for none (`--no-naive`). */
  naive?: string | boolean;
}

/**
 * Runs the bench, prints the report to `stdout` and the file paths to `stderr`. Resolves to the
 * exit code: 1 when chatstore or a raw floor failed a workload (a naive design failing is a result).
 * @example process.exitCode = await benchFromFlags({ quick: true, backend: 'memory' }, process);
 */
export async function benchFromFlags(flags: BenchFlags, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  const list = (text: string | undefined) => text?.split(',').map((item) => item.trim());
  const backends = list(flags.backend);
  const workloads = list(flags.workloads);
  const naive = flags.naive === false ? [] : typeof flags.naive === 'string' ? list(flags.naive) : undefined;
  const { report, files } = await runBench({
    quick: flags.quick === true,
    ...(backends === undefined ? {} : { backends }),
    ...(workloads === undefined ? {} : { workloads }),
    ...(naive === undefined ? {} : { naive }),
    ...(flags.out === undefined ? {} : { out: flags.out }),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  io.stdout.write(`${renderMarkdown(report)}\n`);
  io.stderr.write(`report: ${files.markdown}\n        ${files.json}\n        ${files.svg}\n`);
  const failed = report.workloads.flatMap((workload) =>
    workload.rows
      .filter(
        (row) =>
          row.status === 'error' && !report.contenders.some((c) => c.name === row.contender && c.kind === 'naive'),
      )
      .map((row) => `${workload.id} ${row.contender}: ${row.note ?? ''}`),
  );
  if (failed.length > 0) {
    io.stderr.write(
      `bench: ${failed.length} measurement(s) failed:\n${failed.map((line) => `  ${line}`).join('\n')}\n`,
    );
    return 1;
  }
  return 0;
}
