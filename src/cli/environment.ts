/**
 * The storage settings every command takes from the environment besides `CHATSTORE_URL`, as the
 * old system named them (docs/tiers.md, docs/archive.md): they become store-URL parameters.
 */
import { DEFAULT_ARCHIVE_DIR } from '../backends/archive/url.js';
import { ChatStoreError } from '../errors.js';
import { parseStoreUrl } from '../open.js';

/**
 * The store URL with the tiers' and the archive's settings from the environment, as the old system
 * named them (docs/tiers.md, docs/archive.md); a parameter the URL already has wins.
 * @example withTierEnvironment('sqlite://./chat.db', { MAX_ACTIVE_CONVERSATIONS: '1000' }) // 'sqlite://./chat.db?maxActiveConversations=1000'
 */
export function withTierEnvironment(url: string, env: NodeJS.ProcessEnv): string {
  const { params } = parseStoreUrl(url);
  const set = (value: string | undefined): string | undefined =>
    value === undefined || value === '' ? undefined : value;
  // ARCHIVE_AFTER_DAYS alone turns the archive on, in its default directory.
  const archiveDir =
    set(env.CHATSTORE_ARCHIVE_DIR) ?? (set(env.ARCHIVE_AFTER_DAYS) === undefined ? undefined : DEFAULT_ARCHIVE_DIR);
  const compressionEnabled = set(env.COMPRESSION_ENABLED);
  if (compressionEnabled !== undefined && compressionEnabled !== 'true' && compressionEnabled !== 'false') {
    throw new ChatStoreError('INVALID_ARGUMENT', 'COMPRESSION_ENABLED must be true or false', {
      path: 'COMPRESSION_ENABLED',
    });
  }
  const settings: [string, string | undefined][] = [
    ['maxActiveConversations', env.MAX_ACTIVE_CONVERSATIONS],
    ['maxMessagesPerConversation', env.MAX_MESSAGES_PER_CUSTOMER ?? env.MAX_MESSAGES_PER_CONVERSATION],
    ['cacheUrl', env.CHATSTORE_CACHE_URL],
    ...(params.has('archiveDir')
      ? []
      : ([
          ['archiveDir', archiveDir],
          ['archiveAfterDays', archiveDir === undefined ? undefined : env.ARCHIVE_AFTER_DAYS],
          ['compression', archiveDir === undefined || compressionEnabled !== 'false' ? undefined : 'none'],
          ['storageBatchSize', archiveDir === undefined ? undefined : env.STORAGE_BATCH_SIZE],
        ] as [string, string | undefined][])),
  ];
  let result = url;
  for (const [name, value] of settings) {
    if (value === undefined || value === '' || params.has(name)) continue;
    result += `${result.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
  }
  return result;
}
