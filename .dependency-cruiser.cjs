/**
 * The layering rules of docs/ARCHITECTURE.md, checked on every `npm run lint` (and so by `npm test`).
 * Type-only imports count: a type import is still a dependency a reader has to follow.
 */
const ENGINES = '(memory|sqlite|postgres|mysql|redis|cloudflare)';
const DRIVERS = 'node_modules/(pg|pg-[^/]+|mysql2|ioredis|better-sqlite3)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circles: a type two files share lives in the lower of them or in a small leaf file.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-cross-engine',
      comment:
        "An engine's folder imports its own files, backends/sql (SQL engines) and the shared backend helpers; never another engine.",
      severity: 'error',
      from: { path: `^src/backends/${ENGINES}/` },
      to: { path: `^src/backends/${ENGINES}/`, pathNot: '^src/backends/$1/' },
    },
    {
      name: 'sql-is-engine-neutral',
      comment: 'What the SQL engines share knows no engine.',
      severity: 'error',
      from: { path: '^src/backends/sql/' },
      to: { path: `^src/backends/${ENGINES}/` },
    },
    {
      name: 'root-reaches-no-driver',
      comment:
        'The root import (chatstore) reaches no engine and no driver; engines load only through their subpath or openStore.',
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: [DRIVERS, '^src/backends/', '^src/open\\.ts$', '^src/server/', '^src/cli/'], reachable: true },
    },
    {
      name: 'core-knows-no-engine',
      comment:
        'The core (store, contract, model, rules) imports no engine, server or CLI; only open.ts dispatches to engines.',
      severity: 'error',
      from: { path: ['^src/[^/]+\\.ts$', '^src/store/'], pathNot: '^src/open\\.ts$' },
      to: { path: ['^src/backends/', '^src/server/', '^src/cli/'] },
    },
    {
      name: 'drivers-only-in-their-engine',
      comment:
        'A driver package is imported only inside its engine folder, or (lazily) by a migration layout that reads a legacy store on that engine.',
      severity: 'error',
      from: { path: '^src/', pathNot: [`^src/backends/${ENGINES}/`, '^src/migrate/layouts/'] },
      to: { path: DRIVERS },
    },
    {
      name: 'server-knows-no-engine',
      comment: 'The Hono app serves any ChatStore; it never imports an engine.',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/backends/' },
    },
    {
      name: 'adapters-use-the-api-only',
      comment:
        'chatstore/ingest and the framework adapters run in any server and in Workers: they import the store and the model, never an engine, the server, the CLI or a driver.',
      severity: 'error',
      from: { path: '^src/(ingest|integrations)/' },
      to: { path: ['^src/backends/', '^src/server/', '^src/cli/', '^src/migrate/', DRIVERS] },
    },
    {
      name: 'ingest-is-web-standard',
      comment: 'chatstore/ingest uses Web APIs only (Web Crypto, TextEncoder), so it runs in Workers too.',
      severity: 'error',
      from: { path: '^src/ingest/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'cloudflare-is-web-standard',
      comment:
        "The Cloudflare engine runs in workerd: Web APIs and the runtime's own objects only (FTS5's token rule in backends/fts5.ts uses node:crypto, which the Worker's nodejs_compat provides).",
      severity: 'error',
      from: { path: '^src/backends/cloudflare/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'client-is-web-standard',
      comment:
        'chatstore/client uses Web APIs only (fetch, AbortController, URL, TextDecoder), so it runs in Node, browsers and Workers.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'client-knows-the-contract-only',
      comment:
        'chatstore/client imports the API contract, the model, the errors, the id rule and the JSON rule; never the store, an engine, the server, the CLI or a package (a browser bundle stays small).',
      severity: 'error',
      from: { path: '^src/client/' },
      to: {
        pathNot: [
          '^src/client/',
          '^src/(api|model|errors|ids|backend|json-value|text)\\.ts$',
          '^src/store/options\\.ts$',
        ],
      },
    },
    {
      name: 'product-imports-no-test-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
