/**
 * http (opt-in, `--workloads http`): chatstore's HTTP API against a bare Hono app answering the
 * same routes with the same bytes, measured by bench/http.ts (autocannon). Loaded only when asked
 * for, so the other workloads never load the server.
 */
import { count, type Row, type Workload } from '../workload.js';

/** @example const rows = await httpApi.run(contender, context); */
export const httpApi: Workload = {
  id: 'http',
  title: 'http: REST API against a bare Hono floor',
  method: (sizes) =>
    `bench/http.ts: both servers in this process on 127.0.0.1, autocannon in a worker thread, ${sizes.httpConnections} connections, 1 s warm-up then ${sizes.httpSeconds} s per server and operation. GET recent = the newest 20 of a ${count(1000)}-message conversation; POST append = one message per request, every connection into the same conversation. The floor answers with constant JSON of the same bytes and stores nothing; ratio = chatstore req/s ÷ floor req/s.`,
  columns: [
    { key: 'operation', label: 'operation' },
    { key: 'server', label: 'server' },
    { key: 'requestsPerSecond', label: 'req/s' },
    { key: 'p50', label: 'p50 ms', digits: 1 },
    { key: 'p99', label: 'p99 ms', digits: 1 },
    { key: 'ratio', label: 'ratio', digits: 2 },
    { key: 'errors', label: 'errors' },
  ],
  async run(contender, context) {
    if (contender.storeUrl === undefined) {
      return [{ status: 'n/a', note: 'no HTTP server in this design', cells: {} }];
    }
    const { benchHttp } = await import('../http.js');
    const { workspace, dispose } = await context.workspace();
    // The contender's own instance makes its storage and removes it when it closes (a schema, a
    // database, Redis keys); the server under test opens a store of its own on the same storage.
    const owner = await contender.open(workspace);
    try {
      const results = await benchHttp({
        url: contender.storeUrl(workspace),
        connections: context.sizes.httpConnections,
        durationSeconds: context.sizes.httpSeconds,
      });
      const floorRate = (operation: string) =>
        results.find((result) => result.operation === operation && result.contender === 'hono floor')
          ?.requestsPerSecond;
      return results.map((result): Omit<Row, 'contender' | 'durability'> => {
        const floor = floorRate(result.operation);
        const isChatstore = result.contender === 'chatstore';
        return {
          status: 'ok',
          ...(result.errors > 0 ? { note: `${result.errors} failed requests` } : {}),
          cells: {
            operation: result.operation,
            server: isChatstore ? 'chatstore' : 'bare Hono floor (stores nothing)',
            requestsPerSecond: result.requestsPerSecond,
            p50: result.p50Ms,
            p99: result.p99Ms,
            ratio: isChatstore && floor !== undefined && floor > 0 ? result.requestsPerSecond / floor : null,
            errors: result.errors,
          },
        };
      });
    } finally {
      try {
        await owner.close();
      } finally {
        await dispose();
      }
    }
  },
};
