/**
 * A live Cloudflare KV namespace as a migration source, read in key order (KV lists keys sorted by
 * their bytes, as its bulk export does, so the KV layouts group it the same way). What is read of
 * it is `KvNamespace`: the methods of a Worker's KV binding, which `cloudflareKvApi` provides over
 * Cloudflare's REST API for `chatstore migrate --from cloudflare-kv://<account>/<namespace>`.
 */
import { ChatStoreError } from '../../errors.js';
import type { SourceConversation, SourceDeleter } from '../source.js';
import type { KvItem } from './kv-export.js';
import { parsedValue } from './values.js';

/** What the migration uses of a KV namespace: a Worker binding has exactly these. */
export interface KvNamespace {
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    keys: { name: string }[];
    list_complete: boolean;
    cursor?: string;
  }>;
  get(key: string, type: 'text'): Promise<string | null>;
  delete(key: string): Promise<void>;
}

/** Keys per list call (KV's maximum) and values read at once. */
const LIST_LIMIT = 1000;
const PARALLEL_READS = 16;

/** The namespace's entries in key order, each value read as text and parsed (JSON text as JSON). */
export async function* kvNamespaceEntries(namespace: KvNamespace): AsyncIterable<KvItem> {
  let cursor: string | undefined;
  let index = 0;
  do {
    const page = await namespace.list({ limit: LIST_LIMIT, ...(cursor === undefined ? {} : { cursor }) });
    const names = page.keys.map((key) => key.name);
    for (let start = 0; start < names.length; start += PARALLEL_READS) {
      const batch = names.slice(start, start + PARALLEL_READS);
      const values = await Promise.all(batch.map((name) => namespace.get(name, 'text')));
      for (const [n, key] of batch.entries()) {
        const text = values[n];
        // A key deleted between the listing and the read: nothing of it to migrate.
        if (text === null || text === undefined) continue;
        const value = parsedValue(text);
        if (value === undefined) yield { kind: 'error', error: { source: key, reason: 'the value is not JSON' } };
        else yield { kind: 'entry', entry: { key, value, index } };
        index += 1;
      }
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined && cursor !== '');
}

/** The KV layouts, each knowing which keys hold a conversation it read. */
export type KvLayoutName = 'kv-single' | 'kv-chunked' | 'kv-message' | 'sorted-index';

/** The keys that hold `conversation` in `layout`: what `--delete-source` deletes. */
export function kvKeysOf(layout: KvLayoutName, conversation: SourceConversation): string[] {
  const recordKeys = conversation.records.map((record) => record.key);
  /** A record of an array value is keyed `<key>#<index>`. */
  const holders = () => recordKeys.map((key) => key.slice(0, key.lastIndexOf('#')));
  switch (layout) {
    case 'kv-single':
      return [conversation.key];
    case 'kv-chunked':
      return [...new Set(holders()), `metadata:${conversation.key}`];
    case 'kv-message':
      return recordKeys;
    case 'sorted-index':
      return [...recordKeys, `user:chat:${conversation.key}`];
  }
}

/** Deletes a matched conversation's keys from the live namespace. */
export function kvNamespaceDeleter(namespace: KvNamespace, layout: KvLayoutName): SourceDeleter {
  return {
    async remove(conversation) {
      const keys = kvKeysOf(layout, conversation);
      for (let start = 0; start < keys.length; start += PARALLEL_READS) {
        await Promise.all(keys.slice(start, start + PARALLEL_READS).map((key) => namespace.delete(key)));
      }
    },
    async finish() {
      return true;
    },
  };
}

export interface CloudflareKvApiOptions {
  accountId: string;
  namespaceId: string;
  /** An API token with Workers KV Storage Read (and Write, to delete the source). */
  apiToken: string;
  /** Default `https://api.cloudflare.com/client/v4`. */
  baseUrl?: string;
  fetch?: typeof fetch;
}

/** A `KvNamespace` over Cloudflare's REST API (`/accounts/{account}/storage/kv/namespaces/{namespace}/…`). */
export function cloudflareKvApi(options: CloudflareKvApiOptions): KvNamespace {
  const base = `${(options.baseUrl ?? 'https://api.cloudflare.com/client/v4').replace(/\/$/, '')}/accounts/${encodeURIComponent(options.accountId)}/storage/kv/namespaces/${encodeURIComponent(options.namespaceId)}`;
  const call = async (method: string, path: string): Promise<Response> => {
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(`${base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${options.apiToken}` },
      });
    } catch (error) {
      throw new ChatStoreError('UNAVAILABLE', `the Cloudflare API did not answer: ${String(error)}`, { cause: error });
    }
    if (response.ok || (response.status === 404 && method === 'GET' && path.startsWith('/values/'))) return response;
    const text = await response.text();
    const reason = apiErrorMessage(text) ?? `HTTP ${response.status}`;
    const retryable = response.status === 429 || response.status >= 500;
    throw new ChatStoreError(
      retryable ? 'UNAVAILABLE' : 'INVALID_ARGUMENT',
      `the Cloudflare API refused ${method} ${path.split('?')[0]}: ${reason}`,
      retryable ? {} : { path: 'from' },
    );
  };
  return {
    async list({ prefix, cursor, limit }) {
      const query = new URLSearchParams();
      if (prefix !== undefined) query.set('prefix', prefix);
      if (cursor !== undefined) query.set('cursor', cursor);
      if (limit !== undefined) query.set('limit', String(limit));
      const body = (await (await call('GET', `/keys?${query}`)).json()) as {
        result: { name: string }[];
        result_info?: { cursor?: string };
      };
      const next = body.result_info?.cursor ?? '';
      return { keys: body.result, list_complete: next === '', ...(next === '' ? {} : { cursor: next }) };
    },
    async get(key) {
      const response = await call('GET', `/values/${encodeURIComponent(key)}`);
      return response.status === 404 ? null : response.text();
    },
    async delete(key) {
      await (await call('DELETE', `/values/${encodeURIComponent(key)}`)).body?.cancel();
    },
  };
}

/** The first error message of a Cloudflare API envelope (`{ success: false, errors: [{ code, message }] }`). */
function apiErrorMessage(text: string): string | undefined {
  const body = parsedValue(text) as { errors?: { message?: unknown }[] } | undefined;
  const message = body?.errors?.[0]?.message;
  return typeof message === 'string' ? message : undefined;
}
