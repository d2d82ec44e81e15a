/**
 * The in-process tier's store-URL parameters, the same for every scheme (docs/tiers.md):
 * `maxActiveConversations` turns the tier on, `maxMessagesPerConversation` and `singleWriter` tune it.
 */
import { ChatStoreError } from '../../errors.js';
import type { TailCacheOptions } from './tail-cache.js';

const ACTIVE = 'maxActiveConversations';
const MESSAGES = 'maxMessagesPerConversation';
const SINGLE_WRITER = 'singleWriter';

/**
 * The tier's options in a store URL's parameters, taken out of them (the engine never sees them);
 * `undefined` when the URL asks for no tier.
 * @example tailCacheUrlOptions(new URLSearchParams('maxActiveConversations=1000')) // { maxActiveConversations: 1000 }
 */
export function tailCacheUrlOptions(params: URLSearchParams): TailCacheOptions | undefined {
  const active = params.get(ACTIVE);
  const messages = params.get(MESSAGES);
  const singleWriter = params.get(SINGLE_WRITER);
  for (const name of [ACTIVE, MESSAGES, SINGLE_WRITER]) params.delete(name);
  if (active === null) {
    if (messages !== null || singleWriter !== null) {
      throw new ChatStoreError('INVALID_ARGUMENT', `${MESSAGES} and ${SINGLE_WRITER} need ${ACTIVE}`, { path: ACTIVE });
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
  };
}

function whole(text: string, path: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${path} must be a positive integer`, { path });
  }
  return Number(text);
}
