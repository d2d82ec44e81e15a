import cliProgress from 'cli-progress';
import { ChatStoreError } from '../errors.js';
import { type MigrationProgress, migrate } from '../migrate/migrate.js';
import { rollbackMigration } from '../migrate/rollback.js';
import { type CommandContext, EXIT, withStore } from './context.js';

export interface MigrateFlags {
  from?: string;
  layout?: string;
  to?: string;
  dryRun?: boolean;
  resume?: string | boolean;
  verify?: boolean;
  deleteSource?: boolean;
  since?: string;
  normalizePhone?: boolean;
  channel?: string;
  runsDir?: string;
  batch?: string;
  rollback?: string;
}

/**
 * `chatstore migrate`: a legacy layout into the store (`--to`, else the store URL), with the run's
 * report as Markdown on stdout (and as JSON and Markdown in its folder); progress on stderr, a bar
 * on a terminal and JSON lines otherwise. Exit 0 when everything arrived, 65 when something did not.
 * `--rollback <id>` removes what one run stored instead.
 */
export async function migrateCommand(context: CommandContext, flags: MigrateFlags): Promise<void> {
  const target: CommandContext = flags.to === undefined ? context : { ...context, url: flags.to };
  if (flags.rollback !== undefined) {
    const report = await withStore(target, (store) =>
      rollbackMigration(store, flags.rollback as string, flags.runsDir),
    );
    context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  if (flags.from === undefined) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      '--from is required (a file, a redis://, postgres:// or cloudflare-kv:// URL), or --rollback <id>',
      {
        path: 'from',
      },
    );
  }
  const batchSize = flags.batch === undefined ? undefined : Number(flags.batch);
  const progress = progressWriter(context);
  const report = await withStore(target, (store) =>
    migrate(store, {
      from: flags.from as string,
      ...(flags.layout === undefined ? {} : { layout: flags.layout }),
      dryRun: flags.dryRun === true,
      ...(flags.resume === undefined ? {} : { resume: flags.resume }),
      verify: flags.verify === true,
      deleteSource: flags.deleteSource === true,
      ...(flags.since === undefined ? {} : { since: flags.since }),
      normalizePhone: flags.normalizePhone === true,
      ...(flags.channel === undefined ? {} : { channel: flags.channel }),
      ...(flags.runsDir === undefined ? {} : { runsDir: flags.runsDir }),
      ...(batchSize === undefined ? {} : { batchSize }),
      onProgress: progress.update,
    }).finally(progress.stop),
  );
  context.stdout.write(await readReport(report.files.markdown));
  context.stderr.write(`run ${report.runId}: ${report.files.markdown}, ${report.files.json}\n`);
  if (!report.complete) process.exitCode = EXIT.data;
}

async function readReport(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

/** A progress bar (rate, ETA) on a terminal; JSON lines otherwise. */
function progressWriter(context: CommandContext): { update: (p: MigrationProgress) => void; stop: () => void } {
  const terminal = (context.stderr as { isTTY?: boolean }).isTTY === true;
  if (!terminal) {
    return {
      update: (p) => context.stderr.write(`${JSON.stringify({ progress: p })}\n`),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: context.stderr as NodeJS.WriteStream,
      format:
        ' {bar} {percentage}% | ETA {eta_formatted} | {messages} messages, {rate}/s | {conversations} conversations | {errors} errors',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = p.read?.total ?? 1;
      const done = p.read?.done ?? 0;
      const values = {
        messages: p.messages,
        conversations: p.conversations,
        errors: p.errors,
        rate: p.elapsedMs > 0 ? Math.round((p.messages / p.elapsedMs) * 1000) : 0,
      };
      if (!started) {
        bar.start(total, done, values);
        started = true;
      } else bar.update(done, values);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
