/**
 * The postgres backend's options: checked (each mistake an `INVALID_ARGUMENT` naming its option)
 * and completed with defaults, and read from a store URL, whose chatstore parameters (`schema`,
 * `partitioning`, `textSearch`, `poolSize`) become options while every other one stays in the URL
 * for the driver.
 */
import { ChatStoreError } from '../../errors.js';
import { driverUrl } from '../sql/driver-url.js';
import type { PgPool, PostgresOptions } from './types.js';

const DEFAULT_SCHEMA = 'chatstore';
const DEFAULT_POOL_SIZE = 10;

/** The URL parameters that are chatstore's (every other one goes to the driver). */
const URL_OPTIONS = ['schema', 'partitioning', 'textSearch', 'poolSize'] as const;

/** The options, checked and with their defaults; the URL without chatstore's parameters. */
export interface PgSettings {
  connectionString: string | undefined;
  pool: PgPool | undefined;
  schema: string;
  partitioning: 'none' | 'monthly' | undefined;
  textSearchConfig: string | undefined;
  poolSize: number;
}

/** `postgresUrlOptions`: options from a store URL's parts (what `openStore('postgres://…')` passes). */
export function urlOptions(location: string, params: URLSearchParams): PostgresOptions {
  return { url: driverUrl('postgres', location, params, URL_OPTIONS), ...urlParams(params) };
}

export function checkOptions(options: PostgresOptions): PgSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'postgres options must be an object', { path: 'options' });
  }
  let fromUrl: PostgresOptions = {};
  let connectionString: string | undefined;
  if (options.url !== undefined) {
    if (typeof options.url !== 'string' || !/^postgres(ql)?:\/\//i.test(options.url)) {
      throw new ChatStoreError('INVALID_ARGUMENT', 'the postgres url must start with postgres://', { path: 'url' });
    }
    const mark = options.url.indexOf('?');
    const base = mark < 0 ? options.url : options.url.slice(0, mark);
    const params = new URLSearchParams(mark < 0 ? '' : options.url.slice(mark + 1));
    fromUrl = urlParams(params);
    for (const name of URL_OPTIONS) params.delete(name);
    const rest = params.toString();
    connectionString = rest === '' ? base : `${base}?${rest}`;
  }
  if ((connectionString === undefined) === (options.pool === undefined)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'give the postgres backend a url or a pool (one of them)', {
      path: options.pool === undefined ? 'url' : 'pool',
    });
  }
  const schema = options.schema ?? fromUrl.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      'the postgres schema must be a lower-case identifier (a-z, 0-9, _; at most 63)',
      { path: 'schema' },
    );
  }
  const partitioning = options.partitioning ?? fromUrl.partitioning;
  if (partitioning !== undefined && partitioning !== 'none' && partitioning !== 'monthly') {
    throw new ChatStoreError('INVALID_ARGUMENT', "postgres partitioning must be 'none' or 'monthly'", {
      path: 'partitioning',
    });
  }
  const textSearchConfig = options.textSearchConfig ?? fromUrl.textSearchConfig;
  if (
    textSearchConfig !== undefined &&
    (typeof textSearchConfig !== 'string' || !/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/.test(textSearchConfig))
  ) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'textSearchConfig must name a text search configuration', {
      path: 'textSearchConfig',
    });
  }
  const poolSize = options.poolSize ?? fromUrl.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'poolSize must be a positive integer', { path: 'poolSize' });
  }
  return { connectionString, pool: options.pool, schema, partitioning, textSearchConfig, poolSize };
}

function urlParams(params: URLSearchParams): PostgresOptions {
  const schema = params.get('schema');
  const partitioning = params.get('partitioning');
  const textSearch = params.get('textSearch');
  const poolSize = params.get('poolSize');
  return {
    ...(schema === null ? {} : { schema }),
    ...(partitioning === null ? {} : { partitioning: partitioning as 'none' | 'monthly' }),
    ...(textSearch === null ? {} : { textSearchConfig: textSearch }),
    ...(poolSize === null ? {} : { poolSize: /^\d+$/.test(poolSize) ? Number(poolSize) : Number.NaN }),
  };
}
