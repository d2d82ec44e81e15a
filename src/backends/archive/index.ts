/**
 * The archive (docs/archive.md): `archiveTier`, a `Backend` around the database that moves idle
 * conversations to compressed files and reads them back transparently. `archive-tier.ts` is the
 * Backend, `archive.ts` the moves, restores, recovery, erasure and retention, `content.ts` what a content says, `directory.ts` the files and
 * their manifest entries, `format.ts` the file format, `catalog.ts` the in-memory view of the
 * manifest, `url.ts` the store-URL parameters.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { sqliteBackend } from 'chatstore/sqlite';
 * import { archiveTier } from 'chatstore/archive';
 * const store = new ChatStore(await archiveTier(await sqliteBackend({ path: './data/chat.db' }), { directory: './data/archive' }));
 */

export { type ArchiveTierOptions, archiveTier } from './archive-tier.js';
export { COMPRESSIONS, type Compression } from './format.js';
