/**
 * The archive directory: per archived conversation, a data file (`format.ts`) and its manifest
 * entry (`<name>.json`: counts, seq range, checksum, the conversation as it was). The entry is the
 * commit point: a data file without an entry is a leftover of an interrupted move, never read.
 * Every file is written durably (temporary file, fsync, rename, fsync of the directory), and a
 * conversation is locked across processes while it moves (`proper-lockfile`: a lock directory
 * whose holder refreshes it; a holder killed leaves a lock that goes stale after `staleMs`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, Stats } from '../../model.js';
import { type Compression, extensionOf, sha256 } from './format.js';

/** The manifest entry of one archived conversation. */
export interface ArchiveEntry {
  format: 1;
  conversationId: string;
  /**
   * `moving` from the commit of a move until its delete from the database is done; `restoring`
   * from the start of a restore until every message is back in the database. A run finishes both
   * after a crash (`Archive.recover`).
   */
  state: 'moving' | 'archived' | 'restoring';
  /** The data file, in the same directory. */
  file: string;
  compression: Compression;
  bytes: number;
  sha256: string;
  /** Messages in the file (soft-deleted ones included), and their lowest and highest seq. */
  messages: number;
  firstSeq?: number;
  lastSeq?: number;
  /** When its oldest message was created (not necessarily the first by seq): what retention looks at. */
  oldestAt?: string;
  /** The conversation when it was archived. */
  conversation: Conversation;
  /** Its counts, as `stats(conversationId)` gave them. */
  stats: Stats;
  messageIds: string[];
  externalIds: string[];
  /** Participants, senders and recipients: who an erasure must look for in the file. */
  people: string[];
  archivedAt: string;
}

const ENTRY = '.json';
const TEMPORARY = '.tmp-';
/** The marker of a run whose moves' removals are not finished yet (`holdingRemovals`). */
const PENDING = '.pending';

export class ArchiveDirectory {
  readonly #lockStaleMs: number;

  constructor(
    readonly path: string,
    options: { lockStaleMs: number },
  ) {
    this.#lockStaleMs = options.lockStaleMs;
  }

  /** Creates the directory when missing. */
  async prepare(): Promise<void> {
    await this.#io(`create archive directory ${this.path}`, () => mkdir(this.path, { recursive: true }));
  }

  /** The file name stem of a conversation: ids may hold any character, names may not. */
  nameOf(conversationId: string): string {
    return sha256(conversationId).slice(0, 40);
  }

  /** True when the conversation has an entry (a synchronous stat: every append asks). */
  has(conversationId: string): boolean {
    return existsSync(join(this.path, `${this.nameOf(conversationId)}${ENTRY}`));
  }

  async readEntry(conversationId: string): Promise<ArchiveEntry | undefined> {
    const entry = await this.#readEntryFile(`${this.nameOf(conversationId)}${ENTRY}`);
    return entry?.conversationId === conversationId ? entry : undefined;
  }

  /** The entry under a file name stem (`nameOf`), whichever conversation it is. */
  async readEntryNamed(name: string): Promise<ArchiveEntry | undefined> {
    return this.#readEntryFile(`${name}${ENTRY}`);
  }

  /** Every entry; entries removed while listing are left out. */
  async entries(): Promise<ArchiveEntry[]> {
    const found: ArchiveEntry[] = [];
    for (const file of await this.#list()) {
      if (!file.endsWith(ENTRY) || file.includes(TEMPORARY)) continue;
      const entry = await this.#readEntryFile(file);
      if (entry !== undefined) found.push(entry);
    }
    return found;
  }

  /** The names of the data files (not entries, temporary files or locks). */
  async dataFiles(): Promise<string[]> {
    return (await this.#list()).filter(
      (file) =>
        !file.endsWith(ENTRY) && !file.endsWith('.lock') && !file.endsWith(PENDING) && !file.includes(TEMPORARY),
    );
  }

  /** The directory's modification time: it changes when an entry is written or removed. */
  async version(): Promise<number> {
    return this.#io(`read archive directory ${this.path}`, async () => (await stat(this.path)).mtimeMs);
  }

  /** Writes a data file durably under a new name; its name. */
  async writeData(conversationId: string, compression: Compression, bytes: Buffer): Promise<string> {
    const file = `${this.nameOf(conversationId)}.${randomBytes(4).toString('hex')}${extensionOf(compression)}`;
    await this.#writeDurably(file, bytes);
    return file;
  }

  async readData(entry: ArchiveEntry): Promise<Buffer> {
    return this.#io(`read archive file ${entry.file}`, () => readFile(join(this.path, entry.file)));
  }

  /** Writes (or replaces) the entry durably: the commit point of a move and of a rewrite. */
  async writeEntry(entry: ArchiveEntry): Promise<void> {
    await this.#writeDurably(`${this.nameOf(entry.conversationId)}${ENTRY}`, Buffer.from(JSON.stringify(entry)));
  }

  /** Removes the entry (the commit point of a restore or a hard delete), then its data file. */
  async removeEntry(entry: ArchiveEntry): Promise<void> {
    await this.#io(`remove archive entry of ${entry.conversationId}`, async () => {
      await rm(join(this.path, `${this.nameOf(entry.conversationId)}${ENTRY}`), { force: true });
      await this.#syncDirectory();
    });
    await this.removeFile(entry.file);
  }

  async removeFile(file: string): Promise<void> {
    await this.#io(`remove archive file ${file}`, async () => {
      await rm(join(this.path, file), { force: true });
      await this.#syncDirectory();
    });
  }

  /**
   * Files no entry points to, by the stem of their name: temporary files and data files of moves
   * and rewrites that were interrupted, or in flight in another process (which holds the stem's
   * lock: look again under it before removing one).
   */
  async unreferenced(): Promise<{ name: string; file: string }[]> {
    const files = await this.#list();
    const named = new Set<string>();
    for (const entry of await this.entries()) named.add(entry.file);
    return files
      .filter(
        (file) =>
          !(file.endsWith(ENTRY) && !file.includes(TEMPORARY)) &&
          !file.endsWith('.lock') &&
          !file.endsWith(PENDING) &&
          !named.has(file),
      )
      .map((file) => ({ name: file.slice(0, file.indexOf('.')), file }));
  }

  /**
   * Runs `body` with a marker in the directory that says its removals are not finished (a run whose
   * deletes leave the engine's scrub for later), holding the marker's lock. The marker goes when
   * `body` succeeds; a process killed meanwhile, or a `body` that failed, leaves it for `staleMarkers`.
   */
  async holdingRemovals<T>(body: () => Promise<T>): Promise<T> {
    const name = `removals-${randomBytes(6).toString('hex')}`;
    return this.lockedName(name, 'an archiving run', async () => {
      await this.#writeDurably(`${name}${PENDING}`, Buffer.from(new Date().toISOString()));
      const result = await body();
      await this.removeFile(`${name}${PENDING}`);
      return result;
    });
  }

  /** The markers of runs whose removals are not known to be finished, by lock name (`holdingRemovals`). */
  async markers(): Promise<{ name: string; file: string }[]> {
    return (await this.#list())
      .filter((file) => file.endsWith(PENDING) && !file.includes(TEMPORARY))
      .map((file) => ({ name: file.slice(0, -PENDING.length), file }));
  }

  /** True while the file exists. */
  exists(file: string): boolean {
    return existsSync(join(this.path, file));
  }

  /**
   * Runs `body` holding the conversation's lock, shared by every process on this directory; waits
   * for a holder (up to ten stale periods), breaks a lock whose holder died.
   */
  async locked<T>(conversationId: string, body: () => Promise<T>): Promise<T> {
    return this.lockedName(this.nameOf(conversationId), `conversation ${conversationId}`, body);
  }

  /** `locked` by file name stem; `what` names it in errors. */
  async lockedName<T>(name: string, what: string, body: () => Promise<T>): Promise<T> {
    const target = join(this.path, name);
    let compromised: Error | undefined;
    const staleMs = this.#lockStaleMs;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        stale: staleMs,
        update: Math.max(1000, Math.floor(staleMs / 2)),
        retries: { retries: 200, factor: 1.3, minTimeout: 5, maxTimeout: Math.max(50, staleMs / 10) },
        onCompromised: (error) => {
          compromised = error;
        },
      });
    } catch (cause) {
      throw new ChatStoreError('UNAVAILABLE', `the archive lock of ${what} could not be taken`, {
        cause,
      });
    }
    try {
      const result = await body();
      if (compromised !== undefined) {
        throw new ChatStoreError('UNAVAILABLE', `the archive lock of ${what} was lost`, {
          cause: compromised,
        });
      }
      return result;
    } finally {
      await release().catch(() => undefined);
    }
  }

  async #readEntryFile(file: string): Promise<ArchiveEntry | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.path, file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ChatStoreError('UNAVAILABLE', `archive entry ${file} cannot be read`, { cause: error });
    }
    try {
      const entry = JSON.parse(text) as ArchiveEntry;
      // Entries written before channels existed have no `byChannel` (nor a channel to count).
      entry.stats.byChannel ??= {};
      return entry;
    } catch (cause) {
      throw new ChatStoreError('UNAVAILABLE', `archive entry ${file} is not JSON`, { cause });
    }
  }

  async #list(): Promise<string[]> {
    return this.#io(`read archive directory ${this.path}`, () => readdir(this.path));
  }

  async #writeDurably(file: string, bytes: Buffer): Promise<void> {
    const temporary = join(this.path, `${file}${TEMPORARY}${randomBytes(4).toString('hex')}`);
    await this.#io(`write archive file ${file}`, async () => {
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, join(this.path, file));
      await this.#syncDirectory();
    });
  }

  async #syncDirectory(): Promise<void> {
    const handle = await open(this.path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async #io<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (cause) {
      if (cause instanceof ChatStoreError) throw cause;
      throw new ChatStoreError('UNAVAILABLE', `cannot ${what}: ${(cause as Error).message}`, { cause });
    }
  }
}
