/**
 * The Node edge over real sockets: what only a socket shows. Uploads the client aborts mid-body,
 * `Connection: close` on every answer sent while the server drains, the Host rule end to end.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { AppOptions } from '../../src/server/app.js';
import { type FetchApp, type NodeServer, startNodeServer } from '../../src/server/node.js';
import { type TestApp, testApp } from './helpers.js';

const servers: NodeServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.shutdown()));
});

async function listen(app: FetchApp): Promise<NodeServer> {
  const server = await startNodeServer(app, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 5000 });
  servers.push(server);
  return server;
}

/** An app over a memory store (its logs captured) listening on a free loopback port. */
async function serveTestApp(options: AppOptions = {}): Promise<TestApp & { server: NodeServer }> {
  let server: NodeServer | undefined;
  const test = testApp({ draining: () => server?.draining ?? false, ...options });
  server = await listen(test.app);
  return { ...test, server };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One keep-alive connection; `response()` reads the next response off it (Content-Length or chunked). */
async function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  await once(socket, 'connect');
  let buffer = Buffer.alloc(0);
  let closed = false;
  let wake: () => void = () => {};
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  const more = () =>
    new Promise<void>((resolve, reject) => {
      if (closed) reject(new Error(`connection closed; unread: ${buffer.toString()}`));
      wake = resolve;
    });
  return {
    socket,
    write(text: string) {
      socket.write(text);
    },
    async response(): Promise<RawResponse> {
      let end = buffer.indexOf('\r\n\r\n');
      while (end < 0) {
        await more();
        end = buffer.indexOf('\r\n\r\n');
      }
      const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      buffer = buffer.subarray(end + 4);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = '';
      if (headers['transfer-encoding'] === 'chunked') {
        for (;;) {
          let eol = buffer.indexOf('\r\n');
          while (eol < 0) {
            await more();
            eol = buffer.indexOf('\r\n');
          }
          const size = Number.parseInt(buffer.subarray(0, eol).toString(), 16);
          while (buffer.length < eol + 2 + size + 2) await more();
          body += buffer.subarray(eol + 2, eol + 2 + size).toString();
          buffer = buffer.subarray(eol + 2 + size + 2);
          if (size === 0) break;
        }
      } else {
        const length = Number(headers['content-length'] ?? 0);
        while (buffer.length < length) await more();
        body = buffer.subarray(0, length).toString();
        buffer = buffer.subarray(length);
      }
      return { status: Number(statusLine.split(' ')[1]), headers, body };
    },
  };
}

const request = (method: string, path: string, headers: Record<string, string> = {}, body = '') =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries({ host: '127.0.0.1', ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n${body}`;

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('an upload the client aborts mid-body', () => {
  test.each([
    ['with a Content-Length', { 'content-type': 'application/json', 'content-length': '1000' }, '{"role":"user","con'],
    [
      'chunked',
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      '13\r\n{"role":"user","con\r\n',
    ],
  ])(
    '%s is a client abort: logged below error, counted as REQUEST_ABORTED, never INTERNAL',
    async (_, headers, part) => {
      const { server, logs, app, store } = await serveTestApp();
      const connection = await rawConnection(server.port);
      connection.write(request('POST', '/v1/conversations/c1/messages', headers, part));
      // The request has reached the app and its body is being read when the client goes away.
      await new Promise((resolve) => setTimeout(resolve, 100));
      connection.socket.destroy();
      await until(() => logs.some((entry) => entry.message === 'request'), 'the access log line');

      expect(logs.filter((entry) => entry.level === 'error')).toStrictEqual([]);
      expect(logs).toStrictEqual([
        {
          level: 'info',
          message: 'client aborted the request',
          fields: { requestId: expect.any(String), method: 'POST' },
        },
        {
          level: 'info',
          message: 'request',
          fields: {
            requestId: expect.any(String),
            method: 'POST',
            route: '/v1/conversations/:conversationId/messages',
            status: 400,
            durationMs: expect.any(Number),
          },
        },
      ]);
      const metrics = await (
        await app.request('/metrics', { headers: { host: 'localhost' } }, { remoteAddress: '127.0.0.1' })
      ).text();
      const lines = metrics.split('\n');
      expect(lines).toContain('chatstore_http_errors_total{code="REQUEST_ABORTED"} 1');
      expect(lines).toContain(
        'chatstore_http_request_duration_seconds_count{method="POST",route="/v1/conversations/:conversationId/messages",status="400"} 1',
      );
      expect(metrics).not.toMatch(/code="(INTERNAL|INVALID_ARGUMENT)"|status="500"/);
      expect(await store.getConversation('c1')).toBeUndefined();
    },
  );

  test('a complete upload on the same server is unaffected', async () => {
    const { server } = await serveTestApp();
    const body = JSON.stringify({ role: 'user', content: 'hi' });
    const connection = await rawConnection(server.port);
    connection.write(
      request(
        'POST',
        '/v1/conversations/c1/messages',
        { 'content-type': 'application/json', 'content-length': String(body.length) },
        body,
      ),
    );
    expect((await connection.response()).status).toBe(201);
  });
});

describe('while the server drains after SIGTERM, every answer says Connection: close', () => {
  test('a request that arrived before shutdown started and is answered after', async () => {
    const { server } = await serveTestApp();
    const connection = await rawConnection(server.port);
    connection.write(request('GET', '/healthz'));
    expect((await connection.response()).headers.connection).toBe('keep-alive');
    const body = JSON.stringify({ role: 'user', content: 'hi' });
    connection.write(
      request(
        'POST',
        '/v1/conversations/c1/messages',
        { 'content-type': 'application/json', 'content-length': String(body.length) },
        body.slice(0, 5),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = server.shutdown();
    connection.write(body.slice(5));
    const answer = await connection.response();
    expect([answer.status, answer.headers.connection]).toStrictEqual([201, 'close']);
    await stopped;
  });

  test('a request sent on an idle keep-alive connection after shutdown started', async () => {
    const { server } = await serveTestApp();
    const connection = await rawConnection(server.port);
    connection.write(request('GET', '/healthz'));
    expect((await connection.response()).headers.connection).toBe('keep-alive');
    const stopped = server.shutdown();
    connection.write(request('GET', '/v1/stats'));
    const answer = await connection.response();
    expect([answer.status, answer.headers.connection]).toStrictEqual([200, 'close']);
    await stopped;
  });

  test('an answer @hono/node-server writes itself (a Host it cannot parse)', async () => {
    const { server } = await serveTestApp();
    const connection = await rawConnection(server.port);
    connection.write(request('GET', '/healthz'));
    expect((await connection.response()).headers.connection).toBe('keep-alive');
    const stopped = server.shutdown();
    connection.write(request('GET', '/healthz', { host: 'user@127.0.0.1' }));
    const answer = await connection.response();
    expect([answer.status, answer.headers.connection]).toStrictEqual([400, 'close']);
    await stopped;
  });

  test('an answer whose Response asks for keep-alive', async () => {
    const server = await listen({
      fetch: () => new Response('ok', { headers: { connection: 'keep-alive', 'keep-alive': 'timeout=60' } }),
    });
    const connection = await rawConnection(server.port);
    connection.write(request('GET', '/'));
    expect((await connection.response()).headers.connection).toBe('keep-alive');
    const stopped = server.shutdown();
    connection.write(request('GET', '/'));
    const answer = await connection.response();
    expect([answer.status, answer.headers.connection, answer.headers['keep-alive']]).toStrictEqual([
      200,
      'close',
      undefined,
    ]);
    await stopped;
  });
});

test('over a socket, a keyless server refuses a rebinding page (Host: attacker.example) and serves localhost', async () => {
  const { server } = await serveTestApp();
  const connection = await rawConnection(server.port);
  connection.write(request('GET', '/v1/export', { host: `attacker.example:${server.port}` }));
  const refused = await connection.response();
  expect([refused.status, JSON.parse(refused.body).error.code]).toStrictEqual([403, 'PERMISSION_DENIED']);
  connection.write(request('GET', '/v1/export', { host: `localhost:${server.port}` }));
  expect((await connection.response()).status).toBe(200);
});
