/**
 * degrade (opt-in, `--workloads degrade`): the shared tier (L2) while its Redis dies and comes back.
 * For each contender with a shared tier: a redis-server of the bench's own (its port, no persistence,
 * stopped by pid), a store whose tier uses it, and turns of "append one message, read the newest 20"
 * over 50 conversations; the Redis is killed a while in and started again (empty) a while later.
 * Counted per phase: turns per second, calls that failed, and stale reads (a read after an
 * acknowledged append that does not end with it); at the end, messages acknowledged but not stored.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/open.js';
import { benchMessages } from '../data.js';
import { now } from '../harness.js';
import type { Row, Workload } from '../workload.js';

const PORT = 6392;
const CONVERSATIONS = 50;
/** Seconds: before the kill, Redis down, after the restart (full run / quick run). */
const PHASES = { full: [5, 10, 10], quick: [1, 1, 2] } as const;

/** @example const rows = await degrade.run(contender, context); */
export const degrade: Workload = {
  id: 'degrade',
  title: 'degrade: the shared tier while its Redis is killed and started again',
  method: (sizes) =>
    `a redis-server of the bench's own on port ${PORT} (no persistence); turns of one append and one read of the newest 20, over ${CONVERSATIONS} conversations, one after another; Redis killed (SIGKILL) after ${PHASES.full[0]} s, started again (empty) ${PHASES.full[1]} s later, ${PHASES.full[2]} s more (--quick: ${PHASES.quick.join(' / ')} s; ${sizes.w1Appends} is unused). failed = calls that threw; stale = reads that did not end with the message just acknowledged; lost = acknowledged appends not stored at the end.`,
  columns: [
    { key: 'phase', label: 'phase' },
    { key: 'turnsPerSec', label: 'turns/s' },
    { key: 'failed', label: 'failed' },
    { key: 'stale', label: 'stale reads' },
    { key: 'lost', label: 'lost' },
  ],
  async run(contender, context) {
    if (contender.storeUrl === undefined || contender.kind !== 'chatstore') {
      return [{ status: 'n/a', note: 'no shared tier', cells: {} }];
    }
    const url = (workspace: Parameters<NonNullable<typeof contender.storeUrl>>[0]) =>
      contender.storeUrl?.(workspace) ?? '';
    const { workspace, dispose: removeWorkspace } = await context.workspace();
    if (!url(workspace).includes('cacheUrl=')) {
      await removeWorkspace();
      return [{ status: 'n/a', note: 'no shared tier', cells: {} }];
    }
    // The contender's storage (made by its instance, removed when it closes); a second store on it
    // whose shared tier uses the bench's own Redis.
    const instance = await contender.open(workspace);
    let redis: ChildProcess | undefined;
    try {
      redis = await startRedis();
      const store = await openStore(
        url(workspace).replace(/cacheUrl=[^&]*/, `cacheUrl=${encodeURIComponent(`redis://127.0.0.1:${PORT}/0`)}`),
      );
      const [before, down, after] = context.quick ? PHASES.quick : PHASES.full;
      const acknowledged = new Map<string, number>();
      const phases = [
        { name: 'before', seconds: before, turns: 0, failed: 0, stale: 0 },
        { name: 'Redis down', seconds: down, turns: 0, failed: 0, stale: 0 },
        { name: 'after restart', seconds: after, turns: 0, failed: 0, stale: 0 },
      ];
      let turn = 0;
      for (const [index, phase] of phases.entries()) {
        if (index === 1) {
          redis.kill('SIGKILL');
          context.log(`${contender.name}: Redis killed`);
        }
        if (index === 2) {
          redis = await startRedis();
          context.log(`${contender.name}: Redis started again`);
        }
        const end = now() + phase.seconds * 1000;
        while (now() < end) {
          const id = `degrade-${turn % CONVERSATIONS}`;
          const [message] = benchMessages(id, turn, 1);
          turn++;
          try {
            const [stored] = await store.append(id, message as never);
            const seq = stored?.message.seq ?? 0;
            acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
            const newest = await store.recent(id, 20);
            if (newest[newest.length - 1]?.seq !== seq) phase.stale++;
          } catch {
            phase.failed++;
          }
          phase.turns++;
        }
      }
      let lost = 0;
      for (const [id, count] of acknowledged) lost += Math.max(0, count - (await store.stats(id)).total);
      await store.close();
      return phases.map(
        (phase, index): Omit<Row, 'contender' | 'durability'> => ({
          status: 'ok',
          cells: {
            phase: phase.name,
            turnsPerSec: phase.turns / phase.seconds,
            failed: phase.failed,
            stale: phase.stale,
            lost: index === phases.length - 1 ? lost : null,
          },
        }),
      );
    } finally {
      redis?.kill('SIGKILL');
      try {
        await instance.close();
      } finally {
        await removeWorkspace();
      }
    }
  },
};

/** A redis-server on PORT, answering. */
async function startRedis(): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const { Redis } = await import('ioredis');
  for (let attempt = 0; attempt < 100; attempt++) {
    const probe = new Redis({
      port: PORT,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      await sleep(50);
    }
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${PORT} did not start`);
}
