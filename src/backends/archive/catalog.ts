/**
 * What the archive holds, in memory, for the calls that do not name a conversation: a message by
 * id or external id, conversation listings, the export scan and store-wide stats. Kept up to date
 * from the directory whenever it changed (another process may archive): a data file's name is new
 * for every file written, so only the entries of new data files are read again.
 */
import type { ArchiveDirectory, ArchiveEntry } from './directory.js';

/**
 * A directory's modification time has the granularity of the kernel's clock tick: a change within
 * the tick of the last reading may leave it as it was. The directory is listed again while the
 * time is this recent.
 */
const SETTLE_MS = 2000;

export class ArchiveCatalog {
  #version: number | undefined;
  /** By data file name. */
  readonly #entries = new Map<string, ArchiveEntry>();
  readonly #byMessageId = new Map<string, ArchiveEntry>();
  readonly #byExternalId = new Map<string, Set<ArchiveEntry>>();

  constructor(readonly directory: ArchiveDirectory) {}

  /** Every entry, up to date. */
  async entries(): Promise<readonly ArchiveEntry[]> {
    await this.#refresh();
    return [...this.#entries.values()];
  }

  /** The entry that lists the message id. Stale by at most a rewrite that removed it: callers read the file. */
  async byMessageId(id: string): Promise<ArchiveEntry | undefined> {
    await this.#refresh();
    return this.#byMessageId.get(id);
  }

  async byExternalId(externalId: string): Promise<readonly ArchiveEntry[]> {
    await this.#refresh();
    return [...(this.#byExternalId.get(externalId) ?? [])];
  }

  async #refresh(): Promise<void> {
    const version = await this.directory.version();
    if (version === this.#version && Date.now() - version > SETTLE_MS) return;
    const files = new Set(await this.directory.dataFiles());
    for (const [file, entry] of this.#entries) if (!files.has(file)) this.#remove(file, entry);
    for (const file of files) {
      const known = this.#entries.get(file);
      // A move or a restore under way when last read: its state may have moved on.
      if (known !== undefined && known.state === 'archived') continue;
      if (known !== undefined) this.#remove(file, known);
      const entry = await this.directory.readEntryNamed(file.slice(0, file.indexOf('.')));
      // Written before its entry (a move under way), or left by an interrupted one: not archived.
      if (entry?.file === file) this.#add(file, entry);
    }
    this.#version = version;
  }

  #add(file: string, entry: ArchiveEntry): void {
    this.#entries.set(file, entry);
    for (const id of entry.messageIds) this.#byMessageId.set(id, entry);
    for (const externalId of entry.externalIds) {
      const set = this.#byExternalId.get(externalId) ?? new Set<ArchiveEntry>();
      set.add(entry);
      this.#byExternalId.set(externalId, set);
    }
  }

  #remove(file: string, entry: ArchiveEntry): void {
    this.#entries.delete(file);
    for (const id of entry.messageIds) if (this.#byMessageId.get(id) === entry) this.#byMessageId.delete(id);
    for (const externalId of entry.externalIds) {
      const set = this.#byExternalId.get(externalId);
      set?.delete(entry);
      if (set?.size === 0) this.#byExternalId.delete(externalId);
    }
  }
}
