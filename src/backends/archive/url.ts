/**
 * The archive's store-URL parameters, the same for every scheme (docs/archive.md): `archiveDir`
 * turns the archive on; `archiveAfterDays`, `compression`, `compressionLevel` and
 * `storageBatchSize` tune it.
 */
import { ChatStoreError } from '../../errors.js';
import type { ArchiveTierOptions } from './archive-tier.js';
import { COMPRESSIONS, type Compression } from './format.js';

/** Where `chatstore serve` keeps the archive when `ARCHIVE_AFTER_DAYS` is set without a directory. */
export const DEFAULT_ARCHIVE_DIR = './data/archive';

const DIRECTORY = 'archiveDir';
const AFTER_DAYS = 'archiveAfterDays';
const COMPRESSION = 'compression';
const LEVEL = 'compressionLevel';
const BATCH = 'storageBatchSize';

/**
 * The archive's options in a store URL's parameters, taken out of them (the engine never sees
 * them); `undefined` without `archiveDir`.
 * @example archiveUrlOptions(new URLSearchParams('archiveDir=./data/archive&archiveAfterDays=30'))
 */
export function archiveUrlOptions(params: URLSearchParams): ArchiveTierOptions | undefined {
  const directory = params.get(DIRECTORY);
  const afterDays = params.get(AFTER_DAYS);
  const compression = params.get(COMPRESSION);
  const level = params.get(LEVEL);
  const batch = params.get(BATCH);
  for (const name of [DIRECTORY, AFTER_DAYS, COMPRESSION, LEVEL, BATCH]) params.delete(name);
  if (directory === null || directory === '') {
    if ([afterDays, compression, level].some((value) => value !== null)) {
      throw new ChatStoreError('INVALID_ARGUMENT', `${AFTER_DAYS}, ${COMPRESSION} and ${LEVEL} need ${DIRECTORY}`, {
        path: DIRECTORY,
      });
    }
    return undefined;
  }
  if (compression !== null && !(COMPRESSIONS as readonly string[]).includes(compression)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${COMPRESSION} must be one of ${COMPRESSIONS.join(', ')}`, {
      path: COMPRESSION,
    });
  }
  return {
    directory,
    ...(afterDays === null ? {} : { archiveAfterDays: whole(afterDays, AFTER_DAYS) }),
    ...(compression === null ? {} : { compression: compression as Compression }),
    ...(level === null ? {} : { compressionLevel: whole(level, LEVEL, true) }),
    ...(batch === null ? {} : { batchSize: whole(batch, BATCH) }),
  };
}

function whole(text: string, path: string, zero = false): number {
  if (!(zero ? /^[0-9]{1,9}$/ : /^[1-9][0-9]{0,8}$/).test(text)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${path} must be a ${zero ? 'whole number' : 'positive integer'}`, {
      path,
    });
  }
  return Number(text);
}
