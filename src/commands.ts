import type { Command } from './model.js';

/** How bot commands are recognized. @example new ChatStore(backend, { commands: { prefixes: ['/'], admin: ['ban'] } }) */
export interface CommandOptions {
  /** Characters that start a command at the very beginning of an incoming message. Default `['/', '!']`. */
  prefixes?: string[];
  /** Command names (without prefix, case-insensitive) that are admin commands. Default none. */
  admin?: string[];
}

/** A detector built once per store. */
export type CommandDetector = (content: string) => Command | undefined;

const NAME = /^[\p{L}\p{N}_-]{1,64}/u;
const BOT_HANDLE = /^@[A-Za-z0-9_]{1,64}/;

/**
 * Builds the detector: a prefix, a name of letters, digits, `_` or `-`, an optional Telegram-style
 * `@botname`, then the end or whitespace. Names are lower-cased.
 */
export function commandDetector(options: CommandOptions = {}): CommandDetector {
  const prefixes = options.prefixes ?? ['/', '!'];
  const admin = new Set((options.admin ?? []).map((name) => name.toLowerCase()));
  return (content) => {
    const prefix = prefixes.find((candidate) => candidate !== '' && content.startsWith(candidate));
    if (prefix === undefined) return undefined;
    let rest = content.slice(prefix.length);
    const name = NAME.exec(rest)?.[0];
    if (name === undefined) return undefined;
    rest = rest.slice(name.length);
    rest = rest.slice(BOT_HANDLE.exec(rest)?.[0].length ?? 0);
    if (rest !== '' && !/^\s/u.test(rest)) return undefined;
    const lower = name.toLowerCase();
    return { name: lower, admin: admin.has(lower) };
  };
}
