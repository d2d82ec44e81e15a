import type { JsonObject, JsonValue } from './model.js';

/**
 * JSON merge patch (RFC 7396) for engines without a native one: objects merge recursively, `null`
 * removes a key, anything else replaces.
 * @example applyMergePatch({ a: 1, b: { c: 2 } }, { b: { d: 3 }, a: null }) // { b: { c: 2, d: 3 } }
 */
export function applyMergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else if (isJsonObject(value)) {
      const current = result[key];
      result[key] = applyMergePatch(isJsonObject(current) ? current : {}, value);
    } else {
      result[key] = value;
    }
  }
  return result;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
