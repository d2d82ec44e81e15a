/**
 * A call's arguments as the HTTP API takes them, and the API's error paths as the call's arguments
 * name them. JSON cannot carry everything a call may be given (NaN, a Date inside metadata, a
 * function), and a query string turns every value into text: what the store would refuse is
 * refused here, by the same rule and path, rather than sent altered.
 */
import { ChatStoreError } from '../errors.js';
import { jsonProblem } from '../json-value.js';

/** Turns a path of the request (`messages[0].content`, `q`) into the call's (`message.content`, `query`). */
export type PathMap = (path: string) => string;

export function invalidArgument(path: string, problem: string): ChatStoreError {
  return new ChatStoreError('INVALID_ARGUMENT', `${path} ${problem}`, { path });
}

/** A path segment. An empty one cannot be sent (the URL would name another route): refused as the store refuses it. */
export function segment(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalidArgument(name, 'must be a non-empty string');
  return encodeURIComponent(value);
}

/** A time as the query takes it: ISO text; what is not a time goes as written, for the store to refuse by name. */
export function timeParam(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (value instanceof Date) return dateText(value);
  if (typeof value === 'number' && Number.isFinite(value)) return dateText(new Date(value));
  return String(value);
}

export function dateText(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

/** A flag in the query: `true`, or left out. Anything but a boolean is refused, as the store refuses it. */
export function flagParam(value: unknown, path: string): 'true' | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArgument(path, 'must be a boolean');
  return value === true ? 'true' : undefined;
}

/** Text in the query: a number or anything else would arrive as text the store takes, so it is refused here. */
export function textParam(value: unknown, path: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw invalidArgument(path, 'must be a string');
  return value;
}

/** A number in the query: text would be read as a number by the server, so it is refused here. */
export function numberParam(value: unknown, path: string): number | undefined {
  if (value !== undefined && typeof value !== 'number') throw invalidArgument(path, 'must be a number');
  return value;
}

/**
 * The body as JSON will carry it: Dates in typed fields (times) become ISO text, as the store reads
 * them; `metadata` and `parts` must be plain JSON already (the store's rule, `jsonProblem`), else
 * the call is refused at that path instead of sending NaN as null or a Date as text.
 */
export function jsonBody(value: unknown, path = ''): unknown {
  if (value instanceof Date) return dateText(value);
  if (typeof value === 'bigint') throw invalidArgument(path || 'body', 'must be plain JSON');
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item, index) => jsonBody(item, `${path}[${index}]`));
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if ((key === 'metadata' || key === 'parts') && item !== undefined) {
      const problem = jsonProblem(item, 0, Number.POSITIVE_INFINITY);
      if (problem !== undefined) throw invalidArgument(`${at}${formatPath(problem.path)}`, problem.message);
      result[key] = item;
    } else {
      result[key] = jsonBody(item, at);
    }
  }
  return result;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
}

/** Paths under `from` (a whole segment) read as under `to`. */
export function prefixed(from: string, to: string): PathMap {
  return (path) =>
    path === from || path.startsWith(`${from}.`) || path.startsWith(`${from}[`) ? to + path.slice(from.length) : path;
}

/** Paths of a body field read under `prefix` (`x` → `patch.x`), but `kept` ones and those already under it. */
export function under(prefix: string, kept: readonly string[] = []): PathMap {
  return (path) => {
    const head = /^[^.[]*/.exec(path)?.[0] ?? '';
    return head === prefix || kept.includes(head) || path === '' ? path : `${prefix}.${path}`;
  };
}

/** Query or body names as the call's arguments name them (`q` → `query`). */
export function renamed(names: Readonly<Record<string, string>>): PathMap {
  return (path) => {
    const head = /^[^.[]*/.exec(path)?.[0] ?? '';
    const name = names[head];
    return name === undefined ? path : name + path.slice(head.length);
  };
}
