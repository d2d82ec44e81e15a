/**
 * `chatstore/migrate`: moving history from the layouts bots use today into a store (README,
 * "Coming from…"). One code path for the CLI (`chatstore migrate`) and the library.
 */

export type { SourceDeletion } from './delete-source.js';
export { type MigrationJob, MigrationJobs, type MigrationRequest } from './jobs.js';
export { type MigrationOptions, type MigrationProgress, migrate } from './migrate.js';
export type { MigrationReport } from './report.js';
export { type RollbackReport, rollbackMigration } from './rollback.js';
export { DEFAULT_RUNS_DIR } from './run-files.js';
export { LAYOUTS, type LayoutName } from './source.js';
export type { Verification } from './verify.js';
