/**
 * The archive's procedures over the database below it (`inner`) and the directory: moving a
 * conversation out (write, fsync, verify, commit the entry, then a delete that happens only if the
 * conversation is still as it was read), putting one back, finishing what a killed process left,
 * and erasing a person from the files. Each holds the conversation's lock, shared by every process
 * on the directory, so a move, a restore and an erasure of one conversation never interleave.
 */
import { LRUCache } from 'lru-cache';
import type { ArchiveRecovery, ArchiveRunReport, ArchiveRunRequest, Backend, ErasureCounts } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, Message } from '../../model.js';
import { concernsSubject, isSubjectsConversation, subjectEntry } from '../../subject.js';
import { compareUtf8 } from '../../text.js';
import { atVersion } from '../conversation-version.js';
import { countChannel, countMessage, emptyStats } from '../stats.js';
import { describe, lastActivity, restoreRequest, sameContent } from './content.js';
import type { ArchiveDirectory, ArchiveEntry } from './directory.js';
import { type ArchivedConversation, type Compression, decodeArchive, encodeArchive, sha256 } from './format.js';

export interface ArchiveSettings {
  compression: Compression;
  compressionLevel: number;
  /** Messages read from the database per call while a conversation is moved; conversations per listing page. */
  batchSize: number;
  lockStaleMs: number;
  timestamp(): string;
}

/** Decoded files kept in memory, by file name (a rewrite writes a new name), bounded by messages held. */
const CONTENT_CACHE_MESSAGES = 200_000;

export class Archive {
  readonly #contents = new LRUCache<string, ArchivedConversation>({
    maxSize: CONTENT_CACHE_MESSAGES,
    sizeCalculation: (content) => content.messages.length + 1,
  });
  /** Reads answered from archive files (`ArchiveStats.reads`), and conversations put back. */
  reads = 0;
  restores = 0;
  lastRun: ArchiveRunReport | undefined;

  constructor(
    readonly inner: Backend,
    readonly directory: ArchiveDirectory,
    readonly settings: ArchiveSettings,
  ) {}

  /** The entry of a conversation that is in the archive and not in the database, else undefined. */
  async archivedEntry(conversationId: string): Promise<ArchiveEntry | undefined> {
    if (!this.directory.has(conversationId)) return undefined;
    const entry = await this.directory.readEntry(conversationId);
    return entry === undefined ? undefined : this.answering(entry);
  }

  /**
   * The entry when the archive is what answers for its conversation. A move that committed its
   * entry but was cut off before its delete leaves the conversation in the database too, and a
   * restore puts it there before it removes the entry: the database, complete either way, answers.
   */
  async answering(entry: ArchiveEntry): Promise<ArchiveEntry | undefined> {
    if (entry.state === 'archived') return entry;
    return (await this.inner.getConversation(entry.conversationId)) === undefined ? entry : undefined;
  }

  /** The file's content, verified against the entry's checksum. */
  async content(entry: ArchiveEntry): Promise<ArchivedConversation> {
    const cached = this.#contents.get(entry.file);
    if (cached !== undefined) return cached;
    const bytes = await this.directory.readData(entry);
    if (sha256(bytes) !== entry.sha256) {
      throw new ChatStoreError(
        'UNAVAILABLE',
        `archive file ${entry.file} does not match its checksum: the archive of ${entry.conversationId} is damaged`,
      );
    }
    const content = await decodeArchive(bytes, entry.compression, entry.file);
    this.#contents.set(entry.file, content);
    return content;
  }

  /** Moves the conversations idle since before `before` (`ArchiveOperations.run`). */
  async run(request: ArchiveRunRequest): Promise<ArchiveRunReport> {
    const started = performance.now();
    const recovered = request.dryRun ? noRecovery() : await this.recover();
    const report: ArchiveRunReport = {
      dryRun: request.dryRun,
      before: request.before,
      archived: [],
      skipped: [],
      messages: 0,
      bytes: 0,
      recovered,
      ms: 0,
    };
    const moveAll = async (): Promise<void> => {
      let after: { activityAt: string; id: string } = { activityAt: request.before, id: '' };
      const limit = request.limit ?? Number.POSITIVE_INFINITY;
      scan: for (;;) {
        // Listed by activity (newest message, else creation), newest first, from just below `before`.
        const page = await this.inner.listConversations({
          limit: this.settings.batchSize,
          includeDeleted: true,
          after,
        });
        for (const conversation of page) {
          if (report.archived.length >= limit) break scan;
          after = { activityAt: lastActivity(conversation), id: conversation.id };
          if (request.dryRun) {
            report.archived.push(conversation.id);
            report.messages += conversation.messageCount;
            continue;
          }
          const moved = await this.move(conversation.id, request.before);
          if (moved.archived) {
            report.archived.push(conversation.id);
            report.messages += moved.messages;
            report.bytes += moved.bytes;
          } else {
            report.skipped.push({ conversationId: conversation.id, reason: moved.reason });
          }
        }
        if (page.length < this.settings.batchSize) break;
      }
    };
    const { finishRemovals } = this.inner;
    if (request.dryRun || finishRemovals === undefined) await moveAll();
    else {
      // The engine's scrub of the moved rows happens once, at the end (SQLite: not once per move).
      await this.directory.holdingRemovals(async () => {
        try {
          await moveAll();
        } finally {
          await finishRemovals.call(this.inner, { thorough: false });
        }
      });
    }
    report.ms = Math.round(performance.now() - started);
    if (!request.dryRun) this.lastRun = report;
    return report;
  }

  /** Moves one conversation to the archive, unless it is active or changes meanwhile. */
  async move(
    conversationId: string,
    before: string,
  ): Promise<{ archived: true; messages: number; bytes: number } | { archived: false; reason: string }> {
    return this.directory.locked(conversationId, async () => {
      const conversation = await this.inner.getConversation(conversationId);
      if (conversation === undefined) return { archived: false, reason: 'gone' };
      if (compareUtf8(lastActivity(conversation), before) >= 0) return { archived: false, reason: 'active' };
      const content = { conversation, messages: await this.#allMessages(conversationId) };
      const stats = await this.inner.stats(conversationId);
      const { compression, compressionLevel } = this.settings;
      const bytes = await encodeArchive(content, compression, compressionLevel);
      const file = await this.directory.writeData(conversationId, compression, bytes);
      const entry: ArchiveEntry = {
        format: 1,
        conversationId,
        state: 'moving',
        file,
        compression,
        bytes: bytes.length,
        sha256: sha256(bytes),
        ...describe(content),
        conversation,
        stats,
        archivedAt: this.settings.timestamp(),
      };
      // Verify: the file as stored decodes to what was read.
      if (!sameContent(await this.content(entry), content)) {
        await this.directory.removeFile(file);
        throw new ChatStoreError('UNAVAILABLE', `archive file ${file} did not read back as written`);
      }
      await this.directory.writeEntry(entry);
      // The database must still hold exactly that (a status report or an edit changes no counter),
      // and the delete happens only if no counter moved since: the last moment a write can slip in
      // is between this comparison and the delete.
      const deleted =
        (await this.#unchanged(conversationId, content)) &&
        (await this.inner.deleteConversation(conversationId, {
          hard: true,
          now: this.settings.timestamp(),
          ifUnchanged: conversation,
          // Its scrub waits for the end of the run (`finishRemovals`, called by `run`).
          moved: true,
        }));
      if (!deleted) {
        // Written to (or deleted) since it was read: the database keeps it all.
        await this.directory.removeEntry(entry);
        return { archived: false, reason: 'changed' };
      }
      await this.directory.writeEntry({ ...entry, state: 'archived' });
      return { archived: true, messages: content.messages.length, bytes: bytes.length };
    });
  }

  /** Puts an archived conversation back in the database and removes it from the archive; false when not archived. */
  async restore(conversationId: string): Promise<boolean> {
    if (!this.directory.has(conversationId)) return false;
    return this.directory.locked(conversationId, async () => {
      const entry = await this.directory.readEntry(conversationId);
      if (entry === undefined) return false;
      if (entry.state === 'moving' && !(await this.#settleMove(entry))) return false;
      await this.#restoreEntry(entry);
      return true;
    });
  }

  /** Finishes what killed processes left: moves cut off before their delete, restores, leftover files. */
  async recover(): Promise<ArchiveRecovery> {
    const recovered = noRecovery();
    for (const listed of await this.directory.entries()) {
      if (listed.state === 'archived') continue;
      await this.directory.locked(listed.conversationId, async () => {
        const entry = await this.directory.readEntry(listed.conversationId);
        if (entry === undefined) return;
        if (entry.state === 'restoring') {
          await this.#restoreEntry(entry);
          recovered.restoresFinished += 1;
        } else if (entry.state === 'moving') {
          if (await this.#settleMove(entry)) recovered.movesFinished += 1;
          else recovered.movesUndone += 1;
        }
      });
    }
    // A run that ended before it finished its removals (killed, say): which rows it left unscrubbed
    // is not known, so the engine's storage is rewritten whole. A run still going holds its marker's
    // lock: this waits for it to end.
    let rewritten = false;
    for (const { name, file } of await this.directory.markers()) {
      await this.directory.lockedName(name, 'an archiving run', async () => {
        if (!this.directory.exists(file)) return;
        if (!rewritten) await this.inner.finishRemovals?.({ thorough: true });
        rewritten = true;
        await this.directory.removeFile(file);
        recovered.unfinishedRuns += 1;
      });
    }
    for (const { name, file } of await this.directory.unreferenced()) {
      await this.directory.lockedName(name, `file ${file}`, async () => {
        if ((await this.directory.readEntryNamed(name))?.file === file) return;
        await this.directory.removeFile(file);
        recovered.leftoverFiles += 1;
      });
    }
    return recovered;
  }

  /**
   * Erasure in the archive: conversations named by the subject are removed; every other file that
   * names the subject is rewritten without its messages and its participant entry.
   */
  async erase(subjectId: string): Promise<ErasureCounts & { archiveFilesRewritten: number }> {
    const counts = {
      messagesDeleted: 0,
      conversationsDeleted: [] as string[],
      participantEntriesRemoved: 0,
      archiveFilesRewritten: 0,
    };
    for (const listed of await this.directory.entries()) {
      if (listed.conversationId !== subjectId && !listed.people.includes(subjectId)) continue;
      await this.directory.locked(listed.conversationId, async () => {
        const entry = await this.directory.readEntry(listed.conversationId);
        if (entry === undefined) return;
        const content = await this.content(entry);
        const member = subjectEntry(content.conversation.participants, subjectId) !== undefined;
        if (isSubjectsConversation(entry.conversationId, subjectId)) {
          await this.directory.removeEntry(entry);
          counts.messagesDeleted += content.messages.length;
          counts.participantEntriesRemoved += member ? 1 : 0;
          counts.conversationsDeleted.push(subjectId);
          return;
        }
        const messages = content.messages.filter((m) => !concernsSubject(m, subjectId));
        const erased = content.messages.length - messages.length;
        const conversation: Conversation = {
          ...content.conversation,
          participants: content.conversation.participants.filter((p) => p.id !== subjectId),
          messageCount: content.conversation.messageCount - erased,
        };
        await this.#rewrite(entry, { conversation, messages });
        counts.messagesDeleted += erased;
        counts.participantEntriesRemoved += member ? 1 : 0;
        counts.archiveFilesRewritten += 1;
      });
    }
    return counts;
  }

  /**
   * Retention in the archive: every file holding messages created before `before` is rewritten
   * without them (the conversation stays, as it does in the database).
   */
  async expire(before: string, dryRun: boolean): Promise<{ messagesDeleted: number; archiveFilesRewritten: number }> {
    const counts = { messagesDeleted: 0, archiveFilesRewritten: 0 };
    for (const listed of await this.directory.entries()) {
      // Nothing old enough in it (an entry of an earlier version, without `oldestAt`, is read).
      if (listed.messages === 0 || (listed.oldestAt !== undefined && compareUtf8(listed.oldestAt, before) >= 0)) {
        continue;
      }
      await this.directory.locked(listed.conversationId, async () => {
        const entry = await this.directory.readEntry(listed.conversationId);
        if (entry === undefined) return;
        const content = await this.content(entry);
        const messages = content.messages.filter((m) => compareUtf8(m.createdAt, before) >= 0);
        const expired = content.messages.length - messages.length;
        if (expired === 0) return;
        counts.messagesDeleted += expired;
        if (dryRun) return;
        const conversation = { ...content.conversation, messageCount: content.conversation.messageCount - expired };
        await this.#rewrite(entry, { conversation, messages });
        counts.archiveFilesRewritten += 1;
      });
    }
    return counts;
  }

  /** Removes an archived conversation for good (a hard delete); false when it was not archived. */
  async drop(conversationId: string): Promise<boolean> {
    if (!this.directory.has(conversationId)) return false;
    return this.directory.locked(conversationId, async () => {
      const entry = await this.directory.readEntry(conversationId);
      if (entry === undefined) return false;
      await this.directory.removeEntry(entry);
      return true;
    });
  }

  /** Replaces the file and the entry (the entry is the commit point), then removes the old file. */
  async #rewrite(entry: ArchiveEntry, content: ArchivedConversation): Promise<void> {
    const { compression, compressionLevel } = this.settings;
    const bytes = await encodeArchive(content, compression, compressionLevel);
    const file = await this.directory.writeData(entry.conversationId, compression, bytes);
    const stats = emptyStats();
    stats.conversations = content.conversation.deletedAt === undefined ? 1 : 0;
    for (const message of content.messages) countMessage(stats, message);
    countChannel(stats, content.conversation, stats.total);
    // What `describe` gives is taken from the new content alone (a range it leaves out is gone).
    const { firstSeq: _first, lastSeq: _last, oldestAt: _oldest, ...kept } = entry;
    const rewritten: ArchiveEntry = {
      ...kept,
      file,
      compression,
      bytes: bytes.length,
      sha256: sha256(bytes),
      ...describe(content),
      conversation: content.conversation,
      stats,
    };
    if (!sameContent(await this.content(rewritten), content)) {
      await this.directory.removeFile(file);
      throw new ChatStoreError('UNAVAILABLE', `archive file ${file} did not read back as written`);
    }
    await this.directory.writeEntry(rewritten);
    await this.directory.removeFile(entry.file);
  }

  /** Restore under the lock: mark the entry, put every message back in one atomic append, remove the entry. */
  async #restoreEntry(entry: ArchiveEntry): Promise<void> {
    const content = await this.content(entry);
    if (entry.state !== 'restoring') await this.directory.writeEntry({ ...entry, state: 'restoring' });
    await this.inner.append(restoreRequest(content, this.settings.timestamp()));
    await this.directory.removeEntry(entry);
    this.restores += 1;
  }

  /**
   * An entry a move committed but did not mark archived: its process was killed around the delete.
   * When the database no longer has the conversation, the delete happened: the entry is marked
   * archived (true). When it still holds exactly what the file does, the delete is done now (true).
   * Else the database was written to since, and the entry goes (false): the database has it all.
   */
  async #settleMove(entry: ArchiveEntry): Promise<boolean> {
    const content = await this.content(entry);
    const inDatabase = (await this.inner.getConversation(entry.conversationId)) !== undefined;
    if (
      !inDatabase ||
      ((await this.#unchanged(entry.conversationId, content)) &&
        (await this.inner.deleteConversation(entry.conversationId, {
          hard: true,
          now: this.settings.timestamp(),
          ifUnchanged: content.conversation,
        })))
    ) {
      await this.directory.writeEntry({ ...entry, state: 'archived' });
      return true;
    }
    await this.directory.removeEntry(entry);
    return false;
  }

  /** True when the database holds exactly this conversation and these messages. */
  async #unchanged(conversationId: string, content: ArchivedConversation): Promise<boolean> {
    const conversation = await this.inner.getConversation(conversationId);
    if (conversation === undefined || !atVersion(conversation, content.conversation)) return false;
    const messages = await this.#allMessages(conversationId);
    return sameContent({ conversation, messages }, content);
  }

  async #allMessages(conversationId: string): Promise<Message[]> {
    const all: Message[] = [];
    let afterSeq = 0;
    for (;;) {
      const page = await this.inner.range(conversationId, {
        order: 'asc',
        afterSeq,
        limit: this.settings.batchSize,
        includeDeleted: true,
      });
      all.push(...page);
      if (page.length < this.settings.batchSize) return all;
      afterSeq = (page[page.length - 1] as Message).seq;
    }
  }
}

function noRecovery(): ArchiveRecovery {
  return { movesFinished: 0, movesUndone: 0, restoresFinished: 0, leftoverFiles: 0, unfinishedRuns: 0 };
}
