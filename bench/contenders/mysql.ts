/**
 * The MySQL contenders of `--backend mysql`: chatstore on the mysql backend and the raw mysql2
 * floor, on the same server (`MYSQL_URL`), each workspace in a database of its own that is dropped
 * when the instance closes. The durability both print is read from the server.
 */
import type { Contender } from '../contender.js';
import { benchDatabase, dropsDatabaseOnClose, mysqlFootprint, mysqlStoreUrl, probeMysqlDurability } from './_mysql.js';
import { dropsSharedTailsOnClose, PASSED_THROUGH_BY_TIERS, sharedTailsParameters } from './_tiers.js';
import { chatstoreContender } from './chatstore.js';
import { rawMysqlContender } from './raw-mysql.js';

/**
 * @example const contenders = mysqlContenders();
 */
export function mysqlContenders(): Contender[] {
  const durability = probeMysqlDurability();
  return [
    dropsDatabaseOnClose(
      chatstoreContender({
        name: 'chatstore mysql',
        engine: 'mysql',
        durabilityLabel: durability.label,
        durability: durability.sentence,
        url: mysqlStoreUrl,
        footprint: (workspace) => mysqlFootprint(benchDatabase(workspace)),
      }),
    ),
    dropsSharedTailsOnClose(
      dropsDatabaseOnClose(
        chatstoreContender({
          name: 'chatstore mysql + L2',
          engine: 'mysql',
          durabilityLabel: durability.label,
          durability: durability.sentence,
          notRun: PASSED_THROUGH_BY_TIERS,
          url: (workspace) =>
            `${mysqlStoreUrl(workspace)}${mysqlStoreUrl(workspace).includes('?') ? '&' : '?'}${sharedTailsParameters(workspace)}`,
        }),
      ),
    ),
    rawMysqlContender(durability),
  ];
}
