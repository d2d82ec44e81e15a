/**
 * Prometheus metrics of the archive (docs/archive.md), read from `ChatStore.archiveStats()` at each
 * scrape: what it holds, and the reads and restores of this process. No samples without an archive.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ArchiveStats } from '../backend.js';

type Figure = [name: string, help: string, value: (stats: ArchiveStats) => number];

const GAUGES: readonly Figure[] = [
  ['conversations', 'Conversations in the archive', (stats) => stats.conversations],
  ['messages', 'Messages in the archive', (stats) => stats.messages],
  ['bytes', 'Bytes of the archive files', (stats) => stats.bytes],
];

const COUNTERS: readonly Figure[] = [
  ['reads', 'Reads this process answered from archive files', (stats) => stats.reads],
  ['restores', 'Archived conversations this process put back in the database', (stats) => stats.restores],
];

/** Registers the archive metrics on `registry`; `archive` is called at each scrape. */
export function registerArchiveMetrics(registry: Registry, archive: () => Promise<ArchiveStats | undefined>): void {
  // The closed store, or an unreadable directory: no samples.
  const current = (): Promise<ArchiveStats | undefined> => archive().catch(() => undefined);
  for (const [name, help, value] of GAUGES) {
    new Gauge({
      name: `chatstore_archive_${name}`,
      help,
      registers: [registry],
      async collect() {
        this.reset();
        const stats = await current();
        if (stats !== undefined) this.set(value(stats));
      },
    });
  }
  for (const [name, help, value] of COUNTERS) {
    new Counter({
      name: `chatstore_archive_${name}_total`,
      help,
      registers: [registry],
      async collect() {
        this.reset();
        const stats = await current();
        if (stats !== undefined) this.inc(value(stats));
      },
    });
  }
}
