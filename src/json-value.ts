/** What JSON chatstore stores: plain values only, finite numbers, storable text, bounded depth, and one zero. */
import { isStorableText } from './text.js';

/**
 * `value` with every -0 turned into 0 (JSON has one zero; engines that store JSON text would give
 * back 0 anyway). The same object when there is none, so the common case allocates nothing.
 */
export function withoutNegativeZero<T>(value: T): T {
  if (typeof value === 'number') return (Object.is(value, -0) ? 0 : value) as T;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item = value[index];
      const normalized = withoutNegativeZero(item);
      if (normalized !== item || Object.is(item, -0)) {
        copy ??= value.slice();
        copy[index] = normalized;
      }
    }
    return (copy ?? value) as T;
  }
  let copy: object | undefined;
  for (const [key, item] of Object.entries(value)) {
    const normalized = withoutNegativeZero(item);
    if (normalized !== item || Object.is(item, -0)) {
      copy ??= { ...value };
      // Defined, not assigned: a key named __proto__ stays a key.
      Object.defineProperty(copy, key, { value: normalized, enumerable: true, writable: true, configurable: true });
    }
  }
  return (copy ?? value) as T;
}

/**
 * What makes `value` unfit to store as JSON, and where. `depth` counts the keys and indexes from the
 * top of the value (metadata, one part) to here; nothing may sit deeper than `maxDepth`.
 */
export function jsonProblem(
  value: unknown,
  depth: number,
  maxDepth: number,
): { path: (string | number)[]; message: string } | undefined {
  if (depth > maxDepth) return { path: [], message: `must be nested at most ${maxDepth} levels deep` };
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : { path: [], message: 'must be a finite number' };
  }
  if (typeof value === 'string') {
    return isStorableText(value)
      ? undefined
      : { path: [], message: 'must not contain NUL characters or lone surrogates' };
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = jsonProblem(value[index], depth + 1, maxDepth);
      if (problem !== undefined) return { path: [index, ...problem.path], message: problem.message };
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      return { path: [], message: 'must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)' };
    }
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key))
        return { path: [key], message: 'key must not contain NUL characters or lone surrogates' };
      if (item === undefined) return { path: [key], message: 'must not be undefined' };
      const problem = jsonProblem(item, depth + 1, maxDepth);
      if (problem !== undefined) return { path: [key, ...problem.path], message: problem.message };
    }
    return undefined;
  }
  return { path: [], message: 'must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)' };
}
