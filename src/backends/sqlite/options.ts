/** What `sqliteBackend` takes; a leaf file so that every part of the engine can name it. */

export interface SqliteOptions {
  /** A file path (its directory is created when missing), or `':memory:'`. */
  path: string;
  /**
   * `'full'` (default, `PRAGMA synchronous=FULL`): an acknowledged write survives a power loss.
   * `'normal'`: fewer fsyncs; a power loss may roll back the last commits, never corrupt the file.
   */
  durability?: 'full' | 'normal';
  /** How long a write waits for another process's lock before failing with `UNAVAILABLE`. Default 10 000. */
  busyTimeoutMs?: number;
}
