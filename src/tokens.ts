import type { ContextMessage } from './model.js';

/** Counts the tokens one message costs in a model's context. @example const count: TokenCounter = (m) => encode(m.content).length + 4; */
export type TokenCounter = (message: ContextMessage) => number;

/**
 * The default approximation: about four characters a token (the usual figure for English with BPE
 * tokenizers) plus four tokens of per-message framing. Pass your model's tokenizer for exact budgets.
 * @example approximateTokens({ role: 'user', content: 'hello world!' }) === 7
 */
export const approximateTokens: TokenCounter = (message) => Math.ceil(message.content.length / 4) + 4;
