/** `chatstore serve` refuses unsafe or broken configurations before it opens anything. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { serve } from '../../src/cli/serve.js';
import { ChatStoreError } from '../../src/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatstore-serve-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const context = () => ({
  url: `sqlite://${join(dir, 'data', 'x.db')}`,
  stdout: new PassThrough(),
  stderr: new PassThrough(),
});

async function refusal(options: Parameters<typeof serve>[1], env: NodeJS.ProcessEnv): Promise<object> {
  let caught: unknown;
  try {
    await serve(context(), options, env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ChatStoreError);
  const error = caught as ChatStoreError;
  return { code: error.code, path: error.path, message: error.message };
}

test('a non-loopback host without API keys is refused, and nothing is opened', async () => {
  expect(await refusal({ host: '0.0.0.0' }, {})).toStrictEqual({
    code: 'INVALID_ARGUMENT',
    path: 'host',
    message:
      'refusing to listen on 0.0.0.0 without API keys: anyone who can reach it could read and delete every message. Set CHATSTORE_API_KEYS="<key>:read,write;<key>:admin" or bind to 127.0.0.1',
  });
  expect(await refusal({}, { HOST: '::' })).toMatchObject({ path: 'host' });
  expect(await readdir(dir)).toStrictEqual([]);
});

test.each([
  [{ port: '70000' }, {}, 'port'],
  [{ port: 'http' }, {}, 'port'],
  [{}, { PORT: '-1' }, 'port'],
  [{ maxBody: '1e3' }, {}, 'max-body'],
  [{ shutdownTimeout: 'soon' }, {}, 'shutdown-timeout'],
  [{}, { CHATSTORE_API_KEYS: 'tooshort:read' }, 'CHATSTORE_API_KEYS'],
  [{}, { CHATSTORE_API_KEYS_FILE: '/nonexistent/keys' }, 'CHATSTORE_API_KEYS_FILE'],
])('%j with env %j is refused at %s', async (options, env, path) => {
  expect(await refusal(options, env)).toMatchObject({ code: 'INVALID_ARGUMENT', path });
  expect(await readdir(dir)).toStrictEqual([]);
});
