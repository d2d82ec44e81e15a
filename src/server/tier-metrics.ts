/**
 * Prometheus metrics of the tiers in front of the engine (docs/tiers.md), read from
 * `ChatStore.tierStats()` at each scrape: reads answered and passed on, what each tier holds,
 * evictions, invalidations, and whether it is serving.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TierStats } from '../backend.js';

type TierCounter = keyof Pick<TierStats, 'hits' | 'misses' | 'fills' | 'evictions' | 'invalidations' | 'failures'>;

const COUNTERS: readonly [TierCounter, string][] = [
  ['hits', 'Range reads a tier answered itself'],
  ['misses', 'Range reads a tier passed to the tier or engine below it'],
  ['fills', 'Conversation tails a tier read from below to keep'],
  ['evictions', 'Conversation tails a tier dropped to make room'],
  ['invalidations', 'Conversation tails a tier dropped because the conversation changed'],
  ['failures', 'Calls to a tier’s server that failed'],
];

/** Registers the tier metrics on `registry`; `tiers` is called at each scrape (an empty list: no samples). */
export function registerTierMetrics(registry: Registry, tiers: () => TierStats[]): void {
  const current = (): TierStats[] => {
    try {
      return tiers();
    } catch {
      return []; // the store is closed
    }
  };
  for (const [field, help] of COUNTERS) {
    new Counter({
      name: `chatstore_tier_${field}_total`,
      help,
      labelNames: ['tier'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const stats of current()) {
          const value = stats[field];
          if (value !== null) this.inc({ tier: stats.tier }, value);
        }
      },
    });
  }
  const gauges: [string, string, (stats: TierStats) => number | null][] = [
    ['conversations', 'Conversations whose tails a tier holds', (stats) => stats.conversations],
    ['messages', 'Messages a tier holds', (stats) => stats.messages],
    ['hit_ratio', 'Share of range reads a tier answered itself since start', (stats) => stats.hitRatio],
    [
      'serving',
      '1 while a tier serves reads, 0 while it cannot be trusted (its change feed is down)',
      (stats) => (stats.serving ? 1 : 0),
    ],
  ];
  for (const [name, help, value] of gauges) {
    new Gauge({
      name: `chatstore_tier_${name}`,
      help,
      labelNames: ['tier'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const stats of current()) {
          const measured = value(stats);
          if (measured !== null) this.set({ tier: stats.tier }, measured);
        }
      },
    });
  }
}
