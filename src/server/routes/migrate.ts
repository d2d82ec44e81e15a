/**
 * The migration endpoints (admin): `POST /admin/storage/migrate` starts a run in the background
 * and answers 202 with its id; `GET /admin/storage/migrate` lists this process's runs, and
 * `GET /admin/storage/migrate/{runId}` shows one, with its progress and, once it ends, its report.
 * The runtime edge provides the runs (`AppOptions.migrations`: `chatstore serve` does); without
 * them the endpoints answer 501.
 */
import { ChatStoreError } from '../../errors.js';
import type { MigrationJob, MigrationRequest } from '../../migrate/jobs.js';
import { MigrationJobListSchema, MigrationJobSchema, MigrationRequestSchema, RunParams } from '../migration-schemas.js';
import { type App, access, errors, json, jsonBody, type RouteDeps, route } from './route-kit.js';

/** Runs started over HTTP (`MigrationJobs` of `chatstore/migrate` on Node). */
export interface Migrations {
  start(request: MigrationRequest): Promise<MigrationJob>;
  get(runId: string): MigrationJob | undefined;
  list(): MigrationJob[];
}

export function registerMigrationRoutes(app: App, deps: RouteDeps, migrations: Migrations | undefined): void {
  const admin = access(deps.keyring, 'admin');
  const available = (): Migrations => {
    if (migrations === undefined) {
      throw new ChatStoreError('UNSUPPORTED', 'this server runs no migrations (chatstore serve does)');
    }
    return migrations;
  };

  app.openapi(
    route({
      ...admin,
      method: 'post',
      path: '/admin/storage/migrate',
      operationId: 'startMigration',
      tags: ['admin'],
      summary: 'Start a migration',
      description:
        'Starts moving history from a legacy layout into this store, in the background (docs/migrate.md). Answers 202 with the run’s id once it has one; follow it with GET.',
      request: { body: jsonBody(MigrationRequestSchema) },
      responses: { 202: json(MigrationJobSchema, 'the run, started'), ...errors(404, 415, 501) },
    }),
    async (c) => {
      const job = await available().start(c.req.valid('json'));
      return c.json(job, 202);
    },
  );

  app.openapi(
    route({
      ...admin,
      method: 'get',
      path: '/admin/storage/migrate',
      operationId: 'listMigrations',
      tags: ['admin'],
      summary: 'Migrations of this process',
      description: 'The runs started over HTTP since this server started, newest first.',
      responses: { 200: json(MigrationJobListSchema, 'the runs'), ...errors(501) },
    }),
    async (c) => c.json({ jobs: available().list() }, 200),
  );

  app.openapi(
    route({
      ...admin,
      method: 'get',
      path: '/admin/storage/migrate/{runId}',
      operationId: 'getMigration',
      tags: ['admin'],
      summary: 'One migration',
      description: 'Its state and progress, and once it has ended its report (or why it failed).',
      request: { params: RunParams },
      responses: { 200: json(MigrationJobSchema, 'the run'), ...errors(404, 501) },
    }),
    async (c) => {
      const { runId } = c.req.valid('param');
      const job = available().get(runId);
      if (job === undefined) throw new ChatStoreError('NOT_FOUND', `no migration ${runId} in this process`);
      return c.json(job, 200);
    },
  );
}
