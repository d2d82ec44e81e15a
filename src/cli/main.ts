#!/usr/bin/env node
/**
 * The `chatstore` command. Each subcommand lives in its own file and is loaded only when run, so
 * `chatstore stats` never loads the HTTP server or the benchmark harness.
 */
import { Command } from 'commander';
import { isChatStoreError, redact } from '../errors.js';
import { LAYOUTS } from '../migrate/source.js';
import { type CommandContext, EXIT } from './context.js';

const program = new Command()
  .name('chatstore')
  .description('A conversation store for messaging bots and AI assistants.')
  .option('-u, --url <url>', 'store URL (default: $CHATSTORE_URL or sqlite://./data/chatstore.db)')
  .showHelpAfterError()
  .exitOverride();

const context = (): CommandContext => {
  const url = program.opts<{ url?: string }>().url;
  return { url, stdout: process.stdout, stderr: process.stderr };
};

program
  .command('stats')
  .description('print message counts as JSON, for the whole store or one conversation')
  .option('-c, --conversation <id>', 'only this conversation')
  .action(async (options) => (await import('./stats.js')).stats(context(), options));

program
  .command('conversations')
  .description(
    'print one page of conversations as JSON, newest activity first, filtered by channel, participant or type',
  )
  .option('--channel <channel>', 'only conversations on this channel (whatsapp, sms, telegram…)')
  .option('-p, --participant <id>', 'only conversations with this participant')
  .option('--type <type>', 'only conversations of this type (private, group…)')
  .option('--limit <n>', 'at most this many (default 20)')
  .option('--cursor <cursor>', 'the next page: the `next` of the previous one')
  .option('--include-deleted', 'include soft-deleted conversations')
  .action(async (options) => (await import('./conversations.js')).conversations(context(), options));

program
  .command('export')
  .description('write JSON Lines: per conversation, its record, then its messages in seq order')
  .option('-c, --conversation <id>', 'only this conversation')
  .option('-o, --out <file>', 'write to this file instead of stdout')
  .option('--from <time>', 'only messages created at or after this ISO time')
  .option('--to <time>', 'only messages created before this ISO time')
  .option('--include-deleted', 'include soft-deleted messages')
  .action(async (options) => (await import('./export.js')).exportMessages(context(), options));

program
  .command('import')
  .description(
    'restore an export (or append hand-written lines) from JSON Lines (a file or stdin); what is stored already is skipped, so a re-run resumes',
  )
  .argument('[file]', 'JSONL file; stdin when omitted or "-"')
  .option('-c, --conversation <id>', 'conversation for lines that carry no conversationId')
  .option('--batch <n>', 'messages per atomic call', '500')
  .action(async (file, options) => (await import('./import.js')).importMessages(context(), file, options));

program
  .command('migrate')
  .description(
    'move history from a legacy layout (one JSON file, a Cloudflare KV export, Redis sorted indexes, the old PostgreSQL message log, LangChain, Mastra) into the store; prints the report (Markdown), exit 65 when not everything arrived',
  )
  .option(
    '--from <source>',
    'a file (chat_logs.json, a KV export, a libSQL file), a redis:// URL, a postgres:// URL (?table=messages) or cloudflare-kv://<account>/<namespace> (CLOUDFLARE_API_TOKEN)',
  )
  .option('--layout <name>', `${LAYOUTS.slice(0, -1).join(', ')} or ${LAYOUTS.at(-1)} (default: detected)`)
  .option('--to <url>', 'the store to migrate into (default: --url, $CHATSTORE_URL or the default file)')
  .option('--dry-run', 'read and convert everything, write nothing')
  .option('--resume [runId]', 'go on with a run that was stopped (default: the newest unfinished one from --from)')
  .option('--verify', 'then read both sides again and compare each conversation')
  .option(
    '--delete-source',
    'after a complete, verified run, delete from the source each conversation that still matches the store',
  )
  .option('--since <time>', 'only messages at or after this ISO time')
  .option('--normalize-phone', 'conversation ids as E.164 phone numbers where the keys look like ones')
  .option('--channel <channel>', 'the channel of the conversations the run creates (whatsapp, sms, telegram…)')
  .option('--runs-dir <dir>', 'where runs keep their checkpoints and reports', './data/migrations')
  .option('--batch <n>', 'messages per append', '500')
  .option('--rollback <runId>', 'remove exactly what that run stored, instead of migrating')
  .action(async (options) => (await import('./migrate.js')).migrateCommand(context(), options));

program
  .command('erase')
  .description(
    'erase one person (GDPR): their messages, participant entries and conversation; prints the receipt as JSON',
  )
  .argument('<subjectId>', 'the person: a participant id such as a phone number')
  .option(
    '--compact',
    "then rewrite the engine's storage, so the erased bytes leave its files now (locks tables; see docs/backends.md)",
  )
  .action(async (subjectId, options) => (await import('./erase.js')).erase(context(), subjectId, options));

const subject = program
  .command('subject')
  .description('GDPR requests about one person (erasure itself is `chatstore erase`)');

subject
  .command('export')
  .description(
    'write everything stored about one person as JSON Lines (GDPR access): exactly what `chatstore erase` would remove',
  )
  .argument('<subjectId>', 'the person: a participant id such as a phone number')
  .option('-o, --out <file>', 'write to this file instead of stdout')
  .action(async (subjectId, options) => (await import('./subject.js')).exportSubject(context(), subjectId, options));

program
  .command('archive')
  .description(
    "move conversations idle for --older-than-days (default: the archive's archiveAfterDays) to the archive; prints the report as JSON",
  )
  .option('--older-than-days <n>', 'no activity for this many days')
  .option('--before <time>', 'no activity since this ISO time (instead of --older-than-days)')
  .option('--dry-run', 'only report which conversations would move')
  .option('--limit <n>', 'at most this many conversations (with --list: per page)')
  .option('--list', 'print the archived conversations instead')
  .option('--after <conversationId>', "with --list: start after this conversation (the page's next)")
  .option('--restore <conversationId>', 'put this archived conversation back in the database instead')
  .addHelpText(
    'after',
    '\nThe store needs an archive: archiveDir=<dir> in its URL, or CHATSTORE_ARCHIVE_DIR / ARCHIVE_AFTER_DAYS.',
  )
  .action(async (options) => (await import('./archive.js')).archive(context(), options));

program
  .command('retention')
  .description(
    'delete every message older than --older-than-days (or --before), in the database and the archive; prints the report as JSON',
  )
  .option('--older-than-days <n>', 'created more than this many days ago')
  .option('--before <time>', 'created before this ISO time (instead of --older-than-days)')
  .option('--dry-run', 'only count what would be deleted')
  .action(async (options) => (await import('./retention.js')).retention(context(), options));

program
  .command('compact')
  .description(
    "rewrite the engine's storage so that removed data leaves its files now; prints what was rewritten as JSON",
  )
  .action(async () => (await import('./compact.js')).compact(context()));

program
  .command('serve')
  .description('run the HTTP API (REST v1, admin, metrics, OpenAPI) over the store')
  .option('-p, --port <port>', 'port to listen on (default: $PORT or 8080)')
  .option('-H, --host <host>', 'address to bind (default: $HOST or 127.0.0.1)')
  .option('--max-body <bytes>', 'largest request body (default: $CHATSTORE_MAX_BODY_BYTES or 4 MiB)')
  .option('--shutdown-timeout <ms>', 'wait this long for in-flight requests on SIGTERM (default: 10000)')
  .option(
    '--retention-days <n>',
    'delete messages older than this many days, at start and on the schedule (default: keep all)',
  )
  .option(
    '--maintenance-every <minutes>',
    'archiving (with an archive) and retention (with --retention-days) at start, then this often; 0 never (default: 60)',
  )
  .option(
    '--cors-origin <origin>',
    'let browser pages from this origin call the API; repeatable (default: $CHATSTORE_CORS_ORIGINS, comma-separated, or none)',
    (origin: string, earlier: string[] = []) => [...earlier, origin],
  )
  .addHelpText('after', '\nAPI keys: CHATSTORE_API_KEYS="<key>:read,write;<key>:admin" (none: loopback only)')
  .action(async (options) => (await import('./serve.js')).serve(context(), options));

program
  .command('bench')
  .description('benchmark chatstore against raw drivers and naive designs (W1-W6; source checkout only)')
  .option('--backend <list>', 'backends, comma-separated: memory, sqlite', 'sqlite')
  .option('--quick', 'tiny sizes (CI): checks the harness runs; numbers mean nothing')
  .option('--out <dir>', 'where to write <timestamp>.md/.json/.svg (default: bench/results)')
  .option(
    '--workloads <list>',
    'W1,W2,W3,W4,W5,W6,W1L,W7,http,degrade,archive,migrate (default: W1-W6; the others only when named)',
  )
  .option('--naive <list>', 'naive designs: redis-blob,json-file,redis-chunks (default: all)')
  .option('--no-naive', 'no naive designs')
  .action(async (options) => (await import('./bench.js')).bench(context(), options));

program
  .command('schema')
  .description('create or upgrade a postgres schema and print its SQL (what opening the store does)')
  .option('--dry-run', 'print the SQL that would run; change nothing')
  .action(async (options) => (await import('./schema.js')).schema(context(), options));

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (typeof error === 'object' && error !== null && 'code' in error && String(error.code).startsWith('commander.')) {
    // commander already printed the problem (or help/version, which exit 0)
    return (error as { exitCode?: number }).exitCode ?? EXIT.usage;
  }
  if (isChatStoreError(error)) {
    process.stderr.write(`chatstore: ${error.code}: ${redact(error.message)}\n`);
    return error.code === 'UNAVAILABLE'
      ? EXIT.unavailable
      : error.code === 'INVALID_ARGUMENT'
        ? EXIT.usage
        : EXIT.failure;
  }
  process.stderr.write(`chatstore: ${redact(error instanceof Error ? error.message : String(error))}\n`);
  return EXIT.failure;
}

await main();
