/**
 * Compaction (`compact`, and `compact: true` on removals): rewriting Redis's persistence files so
 * that removed data leaves them now (docs/backends.md, "Erasure on disk").
 *
 * A removal frees the keys in memory at once, but the files keep them: the append-only file holds
 * every command that wrote them until the AOF is rewritten (automatically only when it has doubled,
 * `auto-aof-rewrite-percentage`), and an RDB snapshot holds the data as of its time until the next
 * snapshot replaces it. So, on every server of the store (each node of a cluster, replicas included):
 *
 * - with AOF on, `BGREWRITEAOF`: a new base file from the data as it is now; Redis deletes the old
 *   base and incremental files when the rewrite is done;
 * - with RDB snapshots (save points configured, or a snapshot made since the server started),
 *   `BGSAVE`: a new `dump.rdb` replaces the old one.
 *
 * Each waits for a rewrite or snapshot already running (it started before the removal, so it would
 * keep the data), then for its own to finish, and fails when Redis reports the rewrite failed. A
 * server without persistence has nothing to rewrite. On a cluster, the nodes are those the client
 * has connections to (the slot map: masters and replicas); a node `CLUSTER NODES` lists beyond them
 * is reported as skipped. Replicas of a single server (Sentinel) are not reached: their files are
 * their own.
 */
import type { CompactionReport, RemovalOptions } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import { compactAfter, elapsedMs } from '../compaction.js';
import type { RedisContext } from './context.js';
import type { RedisClient } from './options.js';

/** How often a rewrite in progress is looked at. */
const POLL_MS = 50;
/** How long one rewrite may take before compaction gives up (it goes on in Redis). */
const REWRITE_TIMEOUT_MS = 10 * 60_000;

/** Rewrites the persistence files of every server of the store; what each server rewrote, by name. */
export async function compactServers(ctx: RedisContext): Promise<CompactionReport> {
  const start = performance.now();
  const servers = ctx.cluster && ctx.client.nodes !== undefined ? ctx.client.nodes('all') : [ctx.client];
  const rewritten: string[] = [];
  const skipped: string[] = [];
  await Promise.all(
    servers.map(async (server, index) => {
      const name = servers.length > 1 ? `${serverName(server) ?? `node ${index + 1}`} ` : '';
      const report = await rewriteFiles(server);
      rewritten.push(...report.rewritten.map((file) => `${name}${file}`));
      skipped.push(...report.skipped.map((note) => `${name}${note}`));
    }),
  );
  if (ctx.cluster) {
    // Nodes the cluster lists but the client has no connection to (a replica not in the slot map yet,
    // a failed node) keep their files: say so rather than report the cluster done.
    const reached = new Set(servers.map(serverName));
    for (const node of await clusterNodes(ctx.client)) {
      if (!reached.has(node)) skipped.push(`${node}: not reached (not in the client's slot map, or down)`);
    }
  }
  return { rewritten: rewritten.sort(), skipped: skipped.sort(), ms: elapsedMs(start) };
}

/** `host:port` of every node `CLUSTER NODES` lists, but those without an address. */
async function clusterNodes(client: RedisClient): Promise<string[]> {
  const text = String(await client.call('CLUSTER', 'NODES'));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length > 2 && !(fields[2] ?? '').includes('noaddr'))
    .map((fields) => (fields[1] ?? '').split('@')[0] ?? '')
    .filter((address) => address !== '' && !address.startsWith(':'));
}

async function rewriteFiles(server: RedisClient): Promise<{ rewritten: string[]; skipped: string[] }> {
  const rewritten: string[] = [];
  const skipped: string[] = [];
  const info = await persistence(server);
  if (info.aof_enabled === '1') {
    await rewrite(server, 'BGREWRITEAOF', 'aof_rewrites', (now) =>
      now.aof_rewrite_in_progress === '1' || now.aof_rewrite_scheduled === '1' ? 'busy' : now.aof_last_bgrewrite_status,
    );
    rewritten.push('append-only file');
  }
  let snapshots: boolean;
  try {
    const [, save] = (await server.call('CONFIG', 'GET', 'save')) as [string, string];
    snapshots = (save ?? '').trim() !== '';
  } catch {
    // CONFIG renamed or refused (managed services): a snapshot made since the start tells.
    snapshots = false;
    if (Number(info.rdb_saves ?? 0) === 0)
      skipped.push('RDB snapshot: CONFIG GET save refused, and no snapshot since start');
  }
  if (snapshots || Number(info.rdb_saves ?? 0) > 0) {
    await rewrite(server, 'BGSAVE', 'rdb_saves', (now) =>
      now.rdb_bgsave_in_progress === '1' ? 'busy' : now.rdb_last_bgsave_status,
    );
    rewritten.push('RDB snapshot');
  }
  return { rewritten, skipped };
}

/**
 * Starts `command` once nothing of its kind is running, and waits until Redis has finished it:
 * `counter` (rewrites or saves since start) has grown and `state` is no longer `busy`. A state other
 * than `ok` then is Redis reporting the rewrite failed.
 */
async function rewrite(
  server: RedisClient,
  command: 'BGREWRITEAOF' | 'BGSAVE',
  counter: string,
  state: (info: Record<string, string>) => string | undefined,
): Promise<void> {
  const deadline = performance.now() + REWRITE_TIMEOUT_MS;
  let before: number;
  for (;;) {
    const info = await persistence(server);
    if (state(info) !== 'busy') {
      before = Number(info[counter] ?? 0);
      try {
        await server.call(command);
        break;
      } catch (error) {
        // Another client started one in between: wait for it, then start ours.
        if (!(error instanceof Error) || !/in progress/i.test(error.message)) throw error;
      }
    }
    await waitOrGiveUp(deadline, command);
  }
  for (;;) {
    const info = await persistence(server);
    const now = state(info);
    if (now !== 'busy' && Number(info[counter] ?? 0) > before) {
      if (now !== 'ok') throw new ChatStoreError('UNAVAILABLE', `redis: ${command} failed (status ${now})`);
      return;
    }
    await waitOrGiveUp(deadline, command);
  }
}

async function waitOrGiveUp(deadline: number, command: string): Promise<void> {
  if (performance.now() > deadline) {
    throw new ChatStoreError('UNAVAILABLE', `redis: ${command} did not finish within ${REWRITE_TIMEOUT_MS / 1000} s`);
  }
  await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}

/** `INFO persistence` as fields. */
async function persistence(server: RedisClient): Promise<Record<string, string>> {
  const text = String(await server.call('INFO', 'persistence'));
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

/** `host:port` of a cluster node, when the client says. */
function serverName(server: RedisClient): string | undefined {
  const options = (server as { options?: { host?: string; port?: number } }).options;
  return options?.host === undefined ? undefined : `${options.host}:${options.port ?? 6379}`;
}

/**
 * A removal's result, after compacting when it was asked for (`RemovalOptions`): the removal has
 * committed by then, so a failing compaction rejects with `compactAfter`'s error.
 */
export async function compactingAfter<T>(
  ctx: RedisContext,
  options: RemovalOptions | undefined,
  removal: Promise<T>,
): Promise<T> {
  const removed = await removal;
  if (options?.compact !== true) return removed;
  return compactAfter(removed, () => ctx.guard(() => compactServers(ctx)));
}
