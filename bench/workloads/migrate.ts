/**
 * migrate (opt-in, `--workloads migrate`): how fast `chatstore migrate` moves history, against
 * `chatstore import` of the same messages as JSON Lines (docs/migrate.md). For each bare chatstore
 * contender, three runs into fresh storage, each a `chatstore` child process timed from start to
 * exit: `import` of a JSONL file (a line per message, batches of 500), `migrate` of one JSON file
 * (`json-file`) and `migrate` of the old PostgreSQL message log (`message-log`, a table in a schema
 * of the bench's own on `POSTGRES_URL`) holding the same messages. Peak memory is the child's
 * (`/usr/bin/time`, when there is one): streamed sources keep it flat whatever their size.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { legacyFixture, MESSAGE_LOG_TABLE, messageLogRows, writeJsonFile } from '../../test/fixtures/legacy-layouts.js';
import { dropBenchSchema, POSTGRES_URL } from '../contenders/_pg.js';
import { now } from '../harness.js';
import type { Row, Workload } from '../workload.js';

type Measured = Omit<Row, 'contender' | 'durability'>;

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TIME = '/usr/bin/time';
/** Messages per customer in the generated history: 1 to 25, 13 on average. */
const MAX_PER_CUSTOMER = 25;

/** @example const rows = await migrateWorkload.run(contender, context); */
export const migrateWorkload: Workload = {
  id: 'migrate',
  title: 'migrate: legacy layouts into the store, against chatstore import',
  method: (sizes) =>
    `About ${sizes.migrateMessages.toLocaleString('en-US')} messages (customers of 1–${MAX_PER_CUSTOMER}), written as a JSONL file for \`chatstore import\`, as one JSON file keyed by phone (json-file) and as the old PostgreSQL message log (message-log); each moved into fresh storage by a \`chatstore\` child process, timed from spawn to exit. msg/s = messages stored / that time; vs import = the rate ÷ import's; peak RSS = the child's maximum resident memory. Bare chatstore contenders only.`,
  columns: [
    { key: 'source', label: 'source' },
    { key: 'messages', label: 'messages' },
    { key: 'msgPerSec', label: 'msg/s' },
    { key: 'vsImport', label: 'vs import', digits: 2 },
    { key: 'peakRssMb', label: 'peak RSS MB', digits: 0 },
  ],
  async run(contender, context) {
    const url = contender.storeUrl;
    if (url === undefined || contender.kind !== 'chatstore')
      return [{ status: 'n/a', note: 'chatstore only', cells: {} }];
    const { workspace: files, dispose: removeFiles } = await context.workspace();
    const probe = url(files);
    if (/[?&](maxActiveConversations|cacheUrl|archiveDir)=/.test(probe)) {
      await removeFiles();
      return [{ status: 'skipped', note: 'the tiers pass writes to the engine: see the bare row', cells: {} }];
    }
    try {
      const fixture = legacyFixture(Math.max(1, Math.round(context.sizes.migrateMessages / 13)), MAX_PER_CUSTOMER, 3);
      const jsonl = join(files.dir, 'history.jsonl');
      const json = join(files.dir, 'chat_logs.json');
      writeJsonl(jsonl, fixture);
      writeJsonFile(json, fixture);
      const rows: Measured[] = [];
      const intoFresh = async (source: string, args: (target: string) => string[]): Promise<Measured> => {
        const { workspace, dispose } = await context.workspace();
        // The contender's storage, made by its instance and removed when it closes.
        const instance = await contender.open(workspace);
        try {
          context.log(`${contender.name}: ${source}`);
          const run = await timedChild(args(url(workspace)));
          if (run.code !== 0 && run.code !== 65)
            return { status: 'error', note: `${source}: exit ${run.code}`, cells: {} };
          const messages = fixture.expected.stored;
          return {
            status: 'ok',
            cells: {
              source,
              messages,
              msgPerSec: (messages / run.ms) * 1000,
              ...(run.peakRssKb === undefined ? {} : { peakRssMb: run.peakRssKb / 1024 }),
            },
          };
        } finally {
          await instance.close();
          await dispose();
        }
      };
      rows.push(await intoFresh('import (JSONL)', (target) => ['import', jsonl, '--url', target]));
      rows.push(
        await intoFresh('migrate json-file', (target) => [
          'migrate',
          '--from',
          json,
          '--to',
          target,
          '--runs-dir',
          join(files.dir, 'runs'),
        ]),
      );
      const log = await messageLogSource(fixture, files.keyPrefix);
      try {
        rows.push(
          await intoFresh('migrate message-log', (target) => [
            'migrate',
            '--from',
            log.url,
            '--to',
            target,
            '--runs-dir',
            join(files.dir, 'runs'),
          ]),
        );
      } finally {
        await log.drop();
      }
      const importRate = rows[0]?.cells.msgPerSec;
      for (const row of rows.slice(1)) {
        if (typeof importRate === 'number' && typeof row.cells.msgPerSec === 'number') {
          row.cells.vsImport = row.cells.msgPerSec / importRate;
        }
      }
      return rows;
    } finally {
      await removeFiles();
    }
  },
};

/** The messages as `chatstore import` reads hand-written lines: a conversation id and the message, no seq. */
function writeJsonl(path: string, fixture: ReturnType<typeof legacyFixture>): void {
  const lines: string[] = [];
  for (const { phone, messages } of fixture.customers) {
    const seen = new Set<string>();
    for (const [i, m] of messages.entries()) {
      if (m.text === undefined) continue;
      const identity = `${m.time}|${m.user}|${m.text}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      lines.push(
        JSON.stringify({
          conversationId: phone,
          externalId: `${phone}#${i}`,
          role: m.user ? 'user' : 'assistant',
          content: m.text,
          ...(m.user ? { senderId: phone } : { recipientId: phone }),
          createdAt: new Date(m.time).toISOString(),
        }),
      );
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** The fixture as the old message log, in a schema of the bench's own; `drop` removes it. */
async function messageLogSource(
  fixture: ReturnType<typeof legacyFixture>,
  keyPrefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `chatstore_bench_log_${keyPrefix
    .replace(/[^a-z0-9]/gi, '')
    .slice(-16)
    .toLowerCase()}`;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`CREATE TABLE "${schema}".messages ${MESSAGE_LOG_TABLE}`);
    const rows = messageLogRows(fixture);
    for (let i = 0; i < rows.length; i += 5000) {
      await client.query(
        `INSERT INTO "${schema}".messages SELECT * FROM json_populate_recordset(NULL::"${schema}".messages, $1)`,
        [JSON.stringify(rows.slice(i, i + 5000))],
      );
    }
  } finally {
    await client.end();
  }
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', schema);
  url.searchParams.set('table', 'messages');
  return {
    url: url.toString(),
    drop: () => dropBenchSchema(schema),
  };
}

/** A `chatstore` command in a child process: its exit code, wall time and peak RSS. */
function timedChild(args: string[]): Promise<{ code: number | null; ms: number; peakRssKb?: number }> {
  const node = [process.execPath, '--import', 'tsx', CLI, ...args];
  const timed = existsSync(TIME);
  const started = now();
  const child = timed
    ? spawn(TIME, ['-f', 'chatstore-peak-rss-kb %M', ...node], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(node[0] as string, node.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4096);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = now() - started;
      const rss = /chatstore-peak-rss-kb (\d+)/.exec(stderr)?.[1];
      resolve({ code, ms, ...(rss === undefined ? {} : { peakRssKb: Number(rss) }) });
    });
  });
}
