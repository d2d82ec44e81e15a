import { ChatStoreError } from '../errors.js';
import { DEFAULT_URL, parseStoreUrl } from '../open.js';
import type { CommandContext } from './context.js';

export interface SchemaOptions {
  dryRun?: boolean;
}

/**
 * `chatstore schema`: brings a postgres schema up to date (what opening the store does) and prints
 * the SQL it ran; with `--dry-run`, prints the SQL that would run and changes nothing.
 */
export async function schema(context: CommandContext, options: SchemaOptions): Promise<void> {
  const url = parseStoreUrl(context.url ?? process.env.CHATSTORE_URL ?? DEFAULT_URL);
  if (url.scheme !== 'postgres' && url.scheme !== 'postgresql') {
    throw new ChatStoreError(
      'UNSUPPORTED',
      `chatstore schema manages postgres:// stores; a ${url.scheme}:// store brings its schema up to date when opened`,
    );
  }
  const { postgresMigrations, postgresUrlOptions } = await import('../backends/postgres/index.js');
  const dryRun = options.dryRun === true;
  const plan = await postgresMigrations({ ...postgresUrlOptions(url.location, url.params), dryRun });
  if (plan.statements.length === 0) {
    context.stdout.write(`-- schema "${plan.schema}" is up to date (version ${plan.to})\n`);
    return;
  }
  const layout = `partitioning ${plan.layout.partitioning}, text search ${plan.layout.textSearchConfig}`;
  context.stdout.write(
    `-- schema "${plan.schema}": version ${plan.from} -> ${plan.to} (${layout})${dryRun ? '; dry run: nothing was applied' : '; applied'}\n\n`,
  );
  for (const statement of plan.statements) context.stdout.write(`${statement};\n\n`);
}
