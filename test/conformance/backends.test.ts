/** The backend list itself: CHATSTORE_BACKENDS narrows it and fails loudly on a name it does not know. */
import { describe, expect, test } from 'vitest';
import { ALL_BACKENDS, backends, selectBackends } from './backends.js';

describe('the backend list', () => {
  const names = (list: { name: string }[]) => list.map((entry) => entry.name);

  test('unset or empty selects every backend; names narrow it, in the given order, once each', () => {
    expect(names(selectBackends(undefined, ALL_BACKENDS))).toEqual(names([...ALL_BACKENDS]));
    expect(names(selectBackends(' ', ALL_BACKENDS))).toEqual(names([...ALL_BACKENDS]));
    expect(names(selectBackends('memory', ALL_BACKENDS))).toEqual(['memory']);
    expect(names(selectBackends(' sqlite , memory,sqlite ', ALL_BACKENDS))).toEqual(['sqlite', 'memory']);
  });

  test('an unknown name throws instead of silently testing nothing', () => {
    expect(() => selectBackends('memory,postgress', ALL_BACKENDS)).toThrow(/unknown backend "postgress"/);
  });

  test('names are unique and this run tests at least one backend', () => {
    expect(new Set(names([...ALL_BACKENDS])).size).toBe(ALL_BACKENDS.length);
    expect(backends.length).toBeGreaterThan(0);
  });
});
