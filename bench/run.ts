/**
 * `npm run bench [-- --backend memory,sqlite] [--quick] [--out DIR] [--workloads W1,W3] [--naive LIST | --no-naive]`
 * prints the tables and writes bench/results/<timestamp>.{md,json,svg}.
 */
import { parseArgs } from 'node:util';
import { benchFromFlags } from './cli.js';

const USAGE = `usage: npm run bench -- [options]
  --backend <list>    backends to bench, comma-separated: memory, sqlite (default: sqlite)
  --quick             tiny sizes (CI): checks the harness runs, numbers mean nothing
  --out <dir>         where to write <timestamp>.md/.json/.svg (default: bench/results)
  --workloads <list>  W1,W2,W3,W4,W5,W6,W1L,W7,http,degrade,archive,migrate,webhook,worker (default: W1-W6; the others only when named)
  --naive <list>      naive designs: redis-blob,json-file,redis-chunks (default: all)
  --no-naive          no naive designs
Redis for the naive designs: $REDIS_URL, default redis://127.0.0.1:6379/11.`;

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    quick: { type: 'boolean' },
    out: { type: 'string' },
    workloads: { type: 'string' },
    naive: { type: 'string' },
    'no-naive': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

if (values.help === true) {
  process.stdout.write(`${USAGE}\n`);
} else {
  process.exitCode = await benchFromFlags(
    {
      ...(values.backend === undefined ? {} : { backend: values.backend }),
      ...(values.out === undefined ? {} : { out: values.out }),
      ...(values.workloads === undefined ? {} : { workloads: values.workloads }),
      quick: values.quick === true,
      naive: values['no-naive'] === true ? false : (values.naive ?? true),
    },
    { stdout: process.stdout, stderr: process.stderr },
  );
}
