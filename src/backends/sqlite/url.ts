/**
 * A `sqlite://` store URL as backend options: the location is the file path, the query carries
 * chatstore's own parameters.
 */
import { ChatStoreError } from '../../errors.js';
import type { SqliteOptions } from './options.js';

/**
 * Options from a store URL's parts (what `openStore('sqlite://…')` passes): an empty location is an
 * in-memory database; `durability` and `busyTimeoutMs` come from the query.
 * @example sqliteUrlOptions('./data/chat.db', new URLSearchParams('durability=normal&busyTimeoutMs=5000'))
 */
export function sqliteUrlOptions(location: string, params: URLSearchParams): SqliteOptions {
  const durability = params.get('durability') ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new ChatStoreError('INVALID_ARGUMENT', "sqlite durability must be 'full' or 'normal'", { path: 'url' });
  }
  const busyTimeout = params.get('busyTimeoutMs');
  return {
    path: location === '' ? ':memory:' : location,
    durability,
    ...(busyTimeout === null ? {} : { busyTimeoutMs: nonNegativeInteger(busyTimeout, 'busyTimeoutMs') }),
  };
}

function nonNegativeInteger(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${name} must be a non-negative integer`, { path: 'url' });
  }
  return value;
}
