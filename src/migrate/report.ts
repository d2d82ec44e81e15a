/**
 * A run's report, as the old system produced one: customers and messages before → after, the
 * success rate, every error with its source key and reason, duration, throughput and peak memory;
 * written as JSON and Markdown into the run's folder.
 */
import type { SourceDeletion } from './delete-source.js';
import type { RunFiles, Totals } from './run-files.js';
import type { LayoutName, SourceError } from './source.js';
import type { Verification } from './verify.js';

export interface MigrationReport {
  runId: string;
  from: string;
  layout: LayoutName;
  dryRun: boolean;
  /** The run went on from a checkpoint (`resume`). */
  resumed: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Conversations: in the source, and with their messages in the store (would be, in a dry run). */
  customers: { before: number; after: number };
  messages: {
    /** Records in the source. */
    before: number;
    /** In the store: stored by this run, or there already. */
    after: number;
    stored: number;
    alreadyStored: number;
    /** The same message twice in one conversation of the source (same role, text and time): stored once. */
    duplicatesInSource: number;
    /** Left out by `since`. */
    beforeSince: number;
    failed: number;
  };
  /** after ÷ the messages to move (before, less duplicates and those before `since`); 1 when there were none. */
  successRate: number;
  /** Messages in the store (after) per second of the run. */
  messagesPerSecond: number;
  /** The process's peak resident memory. */
  peakRssBytes: number;
  /** The first 1,000 errors; `errorCount` counts them all. */
  errors: SourceError[];
  errorCount: number;
  verification?: Verification;
  /** What `deleteSource` deleted from the source, when it was asked. */
  sourceDeletion?: SourceDeletion;
  /** Everything arrived: no error, and the verification (when asked) found no difference. */
  complete: boolean;
  files: { json: string; markdown: string };
}

/** What a run hands the report: the fields it shares with the report, its counts, and its verification if any. */
export interface RunOutcome
  extends Pick<
    MigrationReport,
    'from' | 'layout' | 'dryRun' | 'resumed' | 'startedAt' | 'finishedAt' | 'durationMs' | 'errors' | 'errorCount'
  > {
  totals: Totals;
  verification: Verification | undefined;
  sourceDeletion: SourceDeletion | undefined;
}

export function reportOf(files: RunFiles, outcome: RunOutcome): MigrationReport {
  const { totals } = outcome;
  const after = totals.stored + totals.alreadyStored;
  const toMove = totals.sourceMessages - totals.duplicatesInSource - totals.beforeSince;
  const report: Omit<MigrationReport, 'files'> = {
    runId: files.id,
    from: outcome.from,
    layout: outcome.layout,
    dryRun: outcome.dryRun,
    resumed: outcome.resumed,
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
    durationMs: Math.round(outcome.durationMs),
    customers: { before: totals.conversations, after: totals.conversationsStored },
    messages: {
      before: totals.sourceMessages,
      after,
      stored: totals.stored,
      alreadyStored: totals.alreadyStored,
      duplicatesInSource: totals.duplicatesInSource,
      beforeSince: totals.beforeSince,
      failed: totals.failed,
    },
    successRate: toMove <= 0 ? 1 : after / toMove,
    messagesPerSecond: outcome.durationMs > 0 ? Math.round((after / outcome.durationMs) * 1000) : after,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    errors: outcome.errors,
    errorCount: outcome.errorCount,
    ...(outcome.verification === undefined ? {} : { verification: outcome.verification }),
    ...(outcome.sourceDeletion === undefined ? {} : { sourceDeletion: outcome.sourceDeletion }),
    complete: outcome.errorCount === 0 && (outcome.verification?.ok ?? true),
  };
  const json = files.writeReport('report.json', '');
  const markdown = files.writeReport('report.md', markdownOf(report));
  const full: MigrationReport = { ...report, files: { json, markdown } };
  files.writeReport('report.json', `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

export function markdownOf(report: Omit<MigrationReport, 'files'>): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const lines = [
    `# Migration ${report.runId}${report.dryRun ? ' (dry run: nothing was written)' : ''}`,
    '',
    `From \`${report.from}\` (layout \`${report.layout}\`)${report.resumed ? ', resumed from its checkpoint' : ''}.`,
    `Started ${report.startedAt}, finished ${report.finishedAt}.`,
    '',
    '| | before | after |',
    '| --- | --- | --- |',
    `| customers (conversations) | ${n(report.customers.before)} | ${n(report.customers.after)} |`,
    `| messages | ${n(report.messages.before)} | ${n(report.messages.after)} |`,
    '',
    '| | |',
    '| --- | --- |',
    `| ${report.dryRun ? 'would be stored' : 'stored by this run'} | ${n(report.messages.stored)} |`,
    `| already in the store | ${n(report.messages.alreadyStored)} |`,
    `| duplicates in the source (stored once) | ${n(report.messages.duplicatesInSource)} |`,
    `| before --since (left out) | ${n(report.messages.beforeSince)} |`,
    `| failed | ${n(report.messages.failed)} |`,
    `| success rate | ${(report.successRate * 100).toFixed(2)} % |`,
    `| duration | ${(report.durationMs / 1000).toFixed(1)} s |`,
    `| throughput | ${n(report.messagesPerSecond)} messages/s |`,
    `| peak memory (RSS) | ${(report.peakRssBytes / 1048576).toFixed(0)} MiB |`,
    '',
    report.complete ? '**Everything arrived.**' : '**Not everything arrived:** see the errors below.',
  ];
  if (report.verification !== undefined) {
    const v = report.verification;
    lines.push(
      '',
      '## Verification',
      '',
      `${n(v.conversations)} conversations and ${n(v.messages)} messages read again from both sides: ${
        v.ok ? 'every count and checksum matches.' : `${n(v.differences.length)} conversations differ.`
      }`,
    );
    if (v.differences.length > 0) {
      lines.push('', '| conversation | source | store | what differs |', '| --- | --- | --- | --- |');
      for (const d of v.differences)
        lines.push(`| ${d.conversationId} | ${n(d.source)} | ${n(d.store)} | ${d.reason} |`);
    }
  }
  if (report.sourceDeletion !== undefined) {
    const d = report.sourceDeletion;
    lines.push(
      '',
      '## Source',
      '',
      d.skipped !== undefined
        ? `Nothing was deleted from the source: ${d.skipped}.`
        : `${n(d.conversations)} conversations (${n(d.records)} records) deleted from the source after a last comparison with the store; ${n(d.kept)} kept (written to since the run, or holding a record that failed).`,
    );
  }
  if (report.errorCount > 0) {
    lines.push('', `## Errors (${n(report.errorCount)})`, '', '| source | reason |', '| --- | --- |');
    for (const error of report.errors)
      lines.push(`| \`${error.source.replaceAll('|', '\\|')}\` | ${error.reason.replaceAll('|', '\\|')} |`);
    if (report.errorCount > report.errors.length)
      lines.push('', `… and ${n(report.errorCount - report.errors.length)} more.`);
  }
  return `${lines.join('\n')}\n`;
}
