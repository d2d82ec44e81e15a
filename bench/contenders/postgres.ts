/**
 * The PostgreSQL contenders of `--backend postgres`: chatstore on both layouts (plain and monthly
 * partitions) and the raw `pg` floor, on the same server (`POSTGRES_URL`). Every instance works in
 * a schema of its own and drops it when it closes.
 */
import type { Contender } from '../contender.js';
import { benchSchema, dropsSchemaOnClose, pgFootprint, pgStoreUrl, probePgDurability } from './_pg.js';
import { dropsSharedTailsOnClose, L1_PARAMETERS, PASSED_THROUGH_BY_TIERS, sharedTailsParameters } from './_tiers.js';
import { chatstoreContender } from './chatstore.js';
import { rawPgContender, rawPgPlainInsertContender } from './raw-pg.js';

/**
 * @example const contenders = postgresContenders();
 */
export function postgresContenders(): Contender[] {
  const durability = probePgDurability();
  return [
    dropsSchemaOnClose(
      chatstoreContender({
        name: 'chatstore postgres',
        engine: 'postgres',
        durabilityLabel: durability.label,
        durability: durability.sentence,
        url: (workspace) => pgStoreUrl(workspace),
        footprint: (workspace, touch) => pgFootprint(benchSchema(workspace), touch),
      }),
    ),
    dropsSchemaOnClose(
      chatstoreContender({
        name: 'chatstore postgres-partitioned',
        engine: 'postgres',
        durabilityLabel: durability.label,
        durability: durability.sentence,
        url: (workspace) => pgStoreUrl(workspace, 'monthly'),
        footprint: (workspace, touch) => pgFootprint(benchSchema(workspace), touch),
      }),
    ),
    dropsSchemaOnClose(
      chatstoreContender({
        name: 'chatstore postgres + L1',
        engine: 'postgres',
        durabilityLabel: durability.label,
        durability: durability.sentence,
        notRun: PASSED_THROUGH_BY_TIERS,
        url: (workspace) => `${pgStoreUrl(workspace)}&${L1_PARAMETERS}`,
      }),
    ),
    dropsSharedTailsOnClose(
      dropsSchemaOnClose(
        chatstoreContender({
          name: 'chatstore postgres + L2',
          engine: 'postgres',
          durabilityLabel: durability.label,
          durability: durability.sentence,
          notRun: PASSED_THROUGH_BY_TIERS,
          url: (workspace) => `${pgStoreUrl(workspace)}&${sharedTailsParameters(workspace)}`,
        }),
      ),
    ),
    rawPgContender(durability),
    rawPgPlainInsertContender(durability),
  ];
}
