/**
 * The logging the app needs, typed structurally so that any pino logger fits and the app never
 * imports a Node-only logger. What the app logs: request id, method, route pattern, status and
 * duration per request; failures with redacted messages. Never headers, keys, paths with ids, or
 * message content.
 */

/** A pino-compatible logger. */
export interface RequestLogger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** Drops everything; the default when no logger is given. */
export const silentLogger: RequestLogger = {
  info() {},
  warn() {},
  error() {},
};
