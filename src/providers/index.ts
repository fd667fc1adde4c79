// The adapter for each upstream dialect. Adding a dialect is adding a folder and a line here.

import type { Dialect } from '../catalog/types.js';
import type { ProviderAdapter } from './types.js';
import { openaiAdapter } from './openai/index.js';
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openaiResponsesAdapter } from './openai-responses/index.js';

export const adapters: Record<Dialect, ProviderAdapter> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  'openai-responses': openaiResponsesAdapter,
};
