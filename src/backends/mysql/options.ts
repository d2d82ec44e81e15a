/**
 * The mysql backend's options checked, and its URLs parsed: chatstore's own URL parameters
 * (`database`, `poolSize`) become options, every other one goes to mysql2.
 */
import { ChatStoreError } from '../../errors.js';
import { driverUrl } from '../sql/driver-url.js';
import type { MysqlPool } from './pool.js';

/**
 * @example
 * await mysqlBackend({ url: 'mysql://app:secret@db:3306/chatstore' })
 */
export interface MysqlOptions {
  /** `mysql://user:password@host:port/database?poolSize=`; other parameters go to mysql2. */
  url?: string;
  /** A pool of your own instead of a URL; the backend never ends it. */
  pool?: MysqlPool;
  /** The database holding chatstore's tables (created when missing). Default: the URL's, else `chatstore`. */
  database?: string;
  /** Connections of the pool made from `url`. Default 10. */
  poolSize?: number;
}

const DEFAULT_DATABASE = 'chatstore';
const DEFAULT_POOL_SIZE = 10;
/** The URL parameters that are chatstore's (every other one goes to mysql2). */
const URL_OPTIONS = ['database', 'poolSize'] as const;

/** Connection settings parsed from a URL, without a database: the backend creates it when missing. */
export interface ConnectionSettings {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  /** Other URL parameters, for mysql2 (`true`, `false` and numbers as such). */
  extra: Record<string, unknown>;
}

/** Checked options: a URL's connection settings or a pool of yours (exactly one of them). */
export interface MysqlSettings {
  connection: ConnectionSettings | undefined;
  pool: MysqlPool | undefined;
  database: string | undefined;
  poolSize: number;
}

/**
 * Options from a store URL's parts (what `openStore('mysql://…')` passes): chatstore's own
 * parameters become options, the rest stay in the URL for the driver.
 * @example mysqlUrlOptions('app:secret@db:3306/chat', new URLSearchParams('poolSize=20'))
 */
export function mysqlUrlOptions(location: string, params: URLSearchParams): MysqlOptions {
  return { url: driverUrl('mysql', location, params, URL_OPTIONS), ...urlParams(params) };
}

export function checkOptions(options: MysqlOptions): MysqlSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'mysql options must be an object', { path: 'options' });
  }
  let fromUrl: MysqlOptions = {};
  let connection: ConnectionSettings | undefined;
  if (options.url !== undefined) {
    if (typeof options.url !== 'string' || !/^(mysql|mariadb):\/\//i.test(options.url)) {
      throw new ChatStoreError('INVALID_ARGUMENT', 'the mysql url must start with mysql:// or mariadb://', {
        path: 'url',
      });
    }
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (cause) {
      // The text is not echoed: a malformed URL may hold a password that redaction cannot find.
      throw new ChatStoreError('INVALID_ARGUMENT', 'the mysql url is not a valid URL', { path: 'url', cause });
    }
    const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
    fromUrl = { ...urlParams(url.searchParams), ...(path === '' ? {} : { database: path }) };
    const extra: Record<string, unknown> = {};
    for (const [name, value] of url.searchParams) {
      if (!(URL_OPTIONS as readonly string[]).includes(name)) extra[name] = driverValue(value);
    }
    connection = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
      port: url.port === '' ? 3306 : Number(url.port),
      user: url.username === '' ? undefined : decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
      extra,
    };
  }
  if ((connection === undefined) === (options.pool === undefined)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'give the mysql backend a url or a pool (one of them)', {
      path: options.pool === undefined ? 'url' : 'pool',
    });
  }
  const database = options.database ?? fromUrl.database ?? (connection === undefined ? undefined : DEFAULT_DATABASE);
  if (database !== undefined && (typeof database !== 'string' || !/^[A-Za-z0-9_$]{1,64}$/.test(database))) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      'the mysql database must be a name of A-Z, a-z, 0-9, _ and $ (at most 64)',
      {
        path: 'database',
      },
    );
  }
  const poolSize = options.poolSize ?? fromUrl.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'poolSize must be a positive integer', { path: 'poolSize' });
  }
  return { connection, pool: options.pool, database, poolSize };
}

function urlParams(params: URLSearchParams): MysqlOptions {
  const database = params.get('database');
  const poolSize = params.get('poolSize');
  return {
    ...(database === null ? {} : { database }),
    ...(poolSize === null ? {} : { poolSize: /^\d+$/.test(poolSize) ? Number(poolSize) : Number.NaN }),
  };
}

function driverValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  return /^-?\d+$/.test(text) ? Number(text) : text;
}
