/**
 * What the archive holds, in memory, for the calls that do not name a conversation: a message by
 * id or external id, conversation listings, the export scan and store-wide stats. Read from the
 * manifest entries and read again whenever the directory changed (another process may archive).
 */
import type { ArchiveDirectory, ArchiveEntry } from './directory.js';

/**
 * A directory's modification time has the granularity of the kernel's clock tick: a change within
 * the tick of the last reading may leave it as it was. Entries are read again while the time is
 * this recent.
 */
const SETTLE_MS = 2000;

export class ArchiveCatalog {
  #version: number | undefined;
  #entries: ArchiveEntry[] = [];
  #byMessageId = new Map<string, ArchiveEntry>();
  #byExternalId = new Map<string, ArchiveEntry[]>();

  constructor(readonly directory: ArchiveDirectory) {}

  /** Every entry, up to date. */
  async entries(): Promise<readonly ArchiveEntry[]> {
    await this.#refresh();
    return this.#entries;
  }

  async byMessageId(id: string): Promise<ArchiveEntry | undefined> {
    await this.#refresh();
    return this.#byMessageId.get(id);
  }

  async byExternalId(externalId: string): Promise<readonly ArchiveEntry[]> {
    await this.#refresh();
    return this.#byExternalId.get(externalId) ?? [];
  }

  async #refresh(): Promise<void> {
    const version = await this.directory.version();
    if (version === this.#version && Date.now() - version > SETTLE_MS) return;
    const entries = await this.directory.entries();
    const byMessageId = new Map<string, ArchiveEntry>();
    const byExternalId = new Map<string, ArchiveEntry[]>();
    for (const entry of entries) {
      for (const id of entry.messageIds) byMessageId.set(id, entry);
      for (const externalId of entry.externalIds) {
        const list = byExternalId.get(externalId) ?? [];
        list.push(entry);
        byExternalId.set(externalId, list);
      }
    }
    this.#entries = entries;
    this.#byMessageId = byMessageId;
    this.#byExternalId = byExternalId;
    this.#version = version;
  }
}
