/**
 * The tiers' store-URL parameters, the same for every scheme (docs/tiers.md): `maxActiveConversations`
 * turns the in-process tier (L1) on, `cacheUrl` the shared one (L2, a `redis://` or `redis+cluster://`
 * URL, with `cachePrefix` for its keys); `maxMessagesPerConversation` and `singleWriter` tune them.
 */
import { ChatStoreError } from '../../errors.js';
import type { TailCacheOptions } from './tail-cache.js';

const ACTIVE = 'maxActiveConversations';
const MESSAGES = 'maxMessagesPerConversation';
const SINGLE_WRITER = 'singleWriter';
const WARM = 'warmConversations';
const CACHE_URL = 'cacheUrl';
const CACHE_PREFIX = 'cachePrefix';

/** The shared tier's parameters: where its Redis is, the prefix of its keys, tails' length. */
export interface SharedTailsUrl {
  url: string;
  keyPrefix?: string;
  maxMessagesPerConversation?: number;
}

/**
 * The shared tier's options in a store URL's parameters, taken out of them; `undefined` without
 * `cacheUrl`. Read before `tailCacheUrlOptions`, which takes `maxMessagesPerConversation` out.
 * @example sharedTailsUrlOptions(new URLSearchParams('cacheUrl=redis://cache:6379/0')) // { url: 'redis://cache:6379/0' }
 */
export function sharedTailsUrlOptions(params: URLSearchParams): SharedTailsUrl | undefined {
  const url = params.get(CACHE_URL);
  const prefix = params.get(CACHE_PREFIX);
  const messages = params.get(MESSAGES);
  params.delete(CACHE_URL);
  params.delete(CACHE_PREFIX);
  if (url === null) {
    if (prefix !== null)
      throw new ChatStoreError('INVALID_ARGUMENT', `${CACHE_PREFIX} needs ${CACHE_URL}`, { path: CACHE_PREFIX });
    return undefined;
  }
  if (!/^redis(\+cluster)?:\/\//.test(url)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${CACHE_URL} must be a redis:// or redis+cluster:// URL`, {
      path: CACHE_URL,
    });
  }
  return {
    url,
    ...(prefix === null ? {} : { keyPrefix: prefix }),
    ...(messages === null ? {} : { maxMessagesPerConversation: whole(messages, MESSAGES) }),
  };
}

/**
 * The tier's options in a store URL's parameters, taken out of them (the engine never sees them);
 * `undefined` when the URL asks for no tier. `sharedTier`: the URL has `cacheUrl` too (read first, by
 * `sharedTailsUrlOptions`), so `maxMessagesPerConversation` may come without `maxActiveConversations`.
 * @example tailCacheUrlOptions(new URLSearchParams('maxActiveConversations=1000')) // { maxActiveConversations: 1000 }
 */
export function tailCacheUrlOptions(params: URLSearchParams, sharedTier = false): TailCacheOptions | undefined {
  const active = params.get(ACTIVE);
  const messages = params.get(MESSAGES);
  const singleWriter = params.get(SINGLE_WRITER);
  const warm = params.get(WARM);
  for (const name of [ACTIVE, MESSAGES, SINGLE_WRITER, WARM]) params.delete(name);
  if (active === null) {
    if (singleWriter !== null || warm !== null || (messages !== null && !sharedTier)) {
      throw new ChatStoreError('INVALID_ARGUMENT', `${MESSAGES}, ${SINGLE_WRITER} and ${WARM} need ${ACTIVE}`, {
        path: ACTIVE,
      });
    }
    return undefined;
  }
  if (singleWriter !== null && singleWriter !== 'true' && singleWriter !== 'false') {
    throw new ChatStoreError('INVALID_ARGUMENT', `${SINGLE_WRITER} must be true or false`, { path: SINGLE_WRITER });
  }
  return {
    maxActiveConversations: whole(active, ACTIVE),
    ...(messages === null ? {} : { maxMessagesPerConversation: whole(messages, MESSAGES) }),
    ...(singleWriter === 'true' ? { singleWriter: true } : {}),
    ...(warm === null || warm === '0' ? {} : { warmConversations: whole(warm, WARM) }),
  };
}

function whole(text: string, path: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${path} must be a positive integer`, { path });
  }
  return Number(text);
}
