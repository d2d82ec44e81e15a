/**
 * `/openapi.json` (OpenAPI 3.1, generated from the schemas that validate requests) and `/docs`, a
 * self-contained HTML page rendered on the server from the same document: no script, no CDN, so
 * it works on machines without internet access. Its Content-Security-Policy allows exactly that:
 * its one inline `<style>` (by hash) and nothing else, from nowhere.
 */
import type { App } from './routes/route-kit.js';

type OpenApiDocument = ReturnType<App['getOpenAPI31Document']>;

/** The document's `info`, shared by the JSON and the page. */
const INFO = {
  title: 'chatstore HTTP API',
  version: '1',
  description: [
    'A conversation store for messaging bots and AI assistants: every message in order, exactly once.',
    '',
    'Authentication: send an API key as `Authorization: Bearer <key>` or `X-Api-Key: <key>` (used when `Authorization` carries another scheme). Scopes are `read`, `write` and `admin` (admin implies read and write). A server started without keys needs no key and serves loopback clients only, for a loopback `Host` only (`localhost`, `127.x.x.x`, `[::1]`), against DNS rebinding.',
    '',
    'Errors: every failure is `{ "error": { "code", "message", "path"?, "issues"?, "requestId" } }`; `requestId` matches the `X-Request-Id` response header and the server log. An `Idempotency-Key` reused with another payload is 422 `CONFLICT`; a body the client stopped sending is 400 `REQUEST_ABORTED`.',
  ].join('\n'),
  license: { name: 'MIT', identifier: 'MIT' },
};

/**
 * Relative: the API is wherever the document was fetched from. A self-hosted server does not know
 * the name it is reached by behind a proxy, and the document may be cached, so it never names a
 * host; a generated client is given its base URL when created.
 */
const SERVERS = [{ url: '/', description: 'the server this document was fetched from' }];

/**
 * Registers the security schemes, `/openapi.json` and `/docs`. The document is built once, on first
 * request, after every route has been registered.
 */
export function registerDocs(app: App): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'an API key from CHATSTORE_API_KEYS; the scopes listed per operation are required',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyHeader', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
    description: 'the same key, for clients that cannot send Authorization',
  });
  let document: OpenApiDocument | undefined;
  let page: string | undefined;
  let policy: Promise<string> | undefined;
  const build = (): OpenApiDocument => {
    document ??= app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO, servers: SERVERS });
    return document;
  };
  app.get('/openapi.json', (c) => c.json(build()));
  app.get('/docs', async (c) => {
    page ??= renderDocs(build());
    policy ??= docsPolicy();
    return c.html(page, 200, { 'Content-Security-Policy': await policy });
  });
}

/**
 * The page loads nothing: no script, image, font or frame, from this origin or any other. Its only
 * need is its inline style sheet, allowed by hash rather than `'unsafe-inline'`. Links (to
 * `/openapi.json` and within the page) are navigation, which the policy does not govern.
 */
async function docsPolicy(): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(STYLE)));
  const hash = btoa(String.fromCharCode(...digest));
  return `default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { description?: string; content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The page's one style sheet; the Content-Security-Policy allows it by its hash. */
const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem;text-transform:capitalize}
.op{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.method{display:inline-block;min-width:4.2rem;font-weight:700;text-transform:uppercase}
.get{color:#0969da}.post{color:#1a7f37}.patch,.put{color:#9a6700}.delete{color:#cf222e}
code,pre{font:13px ui-monospace,monospace;background:#f6f8fa;border-radius:4px}code{padding:.1rem .3rem}
pre{padding:.6rem;overflow:auto}table{border-collapse:collapse;width:100%;margin:.4rem 0}
td,th{border-top:1px solid #eaeef2;padding:.25rem .4rem;text-align:left;vertical-align:top}
.scope{font-size:12px;background:#ddf4ff;border-radius:10px;padding:.05rem .5rem;margin-left:.5rem}
.muted{color:#59636e}
`;

/**
 * The document as one HTML page: operations grouped by tag, with scopes, parameters, bodies and
 * responses, then the schemas.
 */
export function renderDocs(document: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  const paths = (document.paths ?? {}) as Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const tag = operation.tags?.[0] ?? 'other';
      const list = byTag.get(tag) ?? [];
      list.push(renderOperation(method, path, operation));
      byTag.set(tag, list);
    }
  }
  const schemas = Object.entries((document.components?.schemas ?? {}) as Record<string, unknown>);
  const sections = [...byTag]
    .map(
      ([tag, operations]) =>
        `<section id="tag-${escapeHtml(tag)}"><h2>${escapeHtml(tag)}</h2>${operations.join('')}</section>`,
    )
    .join('');
  const toc = [...byTag.keys()].map((tag) => `<a href="#tag-${escapeHtml(tag)}">${escapeHtml(tag)}</a>`).join(' · ');
  const schemaList = schemas
    .map(
      ([name, schema]) =>
        `<details id="schema-${escapeHtml(name)}"><summary>${escapeHtml(name)}</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)}</title>
<style>${STYLE}</style></head><body>
<h1>${escapeHtml(document.info.title)}</h1>
<p class="muted">OpenAPI ${escapeHtml(document.openapi)} · version ${escapeHtml(document.info.version)} · <a href="/openapi.json">openapi.json</a></p>
${paragraphs(document.info.description ?? '')}
<p>${toc} · <a href="#schemas">schemas</a></p>
${sections}
<section id="schemas"><h2>schemas</h2>${schemaList}</section>
</body></html>`;
}

function renderOperation(method: string, path: string, operation: Operation): string {
  const scopes = [...new Set((operation.security ?? []).flatMap((requirement) => Object.values(requirement).flat()))];
  const scope =
    scopes.length === 0
      ? '<span class="scope">public</span>'
      : `<span class="scope">scope: ${escapeHtml(scopes.join(', '))}</span>`;
  const parameters = operation.parameters ?? [];
  const parameterTable =
    parameters.length === 0
      ? ''
      : `<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>${parameters
          .map(
            (p) =>
              `<tr><td><code>${escapeHtml(p.name)}</code>${p.required === true ? ' *' : ''}</td><td>${escapeHtml(p.in)}</td><td>${escapeHtml(
                typeName(p.schema),
              )}</td><td>${escapeHtml(p.description ?? '')}</td></tr>`,
          )
          .join('')}</table>`;
  const body = operation.requestBody?.content
    ? `<p>Body: ${Object.entries(operation.requestBody.content)
        .map(([type, media]) => `<code>${escapeHtml(type)}</code> ${schemaLink(media.schema)}`)
        .join(', ')}</p>`
    : '';
  const responses = Object.entries(operation.responses ?? {})
    .map(([status, response]) => {
      const media = Object.values(response.content ?? {})[0];
      return `<tr><td><code>${escapeHtml(status)}</code></td><td>${escapeHtml(response.description ?? '')}</td><td>${
        media === undefined ? '' : schemaLink(media.schema)
      }</td></tr>`;
    })
    .join('');
  return `<div class="op"><div><span class="method ${method}">${method}</span><code>${escapeHtml(path)}</code>${scope}</div>
<p><strong>${escapeHtml(operation.summary ?? '')}</strong></p>${paragraphs(operation.description ?? '')}
${parameterTable}${body}<table><tr><th>status</th><th>meaning</th><th>body</th></tr>${responses}</table></div>`;
}

function schemaLink(schema: unknown): string {
  const name = refName(schema);
  if (name !== undefined) return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  const alternatives = (schema as { anyOf?: unknown[]; oneOf?: unknown[] } | undefined)?.anyOf;
  if (alternatives !== undefined) return alternatives.map(schemaLink).join(' or ');
  return `<code>${escapeHtml(typeName(schema))}</code>`;
}

function refName(schema: unknown): string | undefined {
  const ref = (schema as { $ref?: unknown } | undefined)?.$ref;
  return typeof ref === 'string' ? ref.slice(ref.lastIndexOf('/') + 1) : undefined;
}

function typeName(schema: unknown): string {
  if (schema === undefined || schema === null || typeof schema !== 'object') return '';
  const s = schema as { type?: unknown; enum?: unknown[]; anyOf?: unknown[] };
  if (Array.isArray(s.enum)) return s.enum.map(String).join(' | ');
  if (Array.isArray(s.anyOf)) return s.anyOf.map(typeName).join(' | ');
  return refName(schema) ?? (typeof s.type === 'string' ? s.type : 'object');
}

function paragraphs(text: string): string {
  return text
    .split(/\n{2,}/)
    .filter((part) => part.trim() !== '')
    .map((part) => `<p>${escapeHtml(part).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
    .join('');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
