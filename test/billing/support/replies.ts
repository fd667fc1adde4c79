// Scripted OpenAI-compatible upstream answers with exactly the usage a billing test needs.

import type { RecordedRequest, Reply, SseFrame } from '../../simulators/server.js';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
  [extra: string]: unknown;
}

export const usage = (prompt: number, completion: number, extra: Partial<OpenAIUsage> = {}): OpenAIUsage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  ...extra,
});

export function openaiJson(u: OpenAIUsage, content = 'Billed answer.'): Reply {
  return {
    kind: 'json',
    body: {
      id: 'chatcmpl-bill',
      object: 'chat.completion',
      created: 1_770_000_000,
      model: 'sim',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: u,
    },
  };
}

const chunk = (delta: object, finish: string | null = null) =>
  JSON.stringify({ id: 'chatcmpl-bill', object: 'chat.completion.chunk', created: 1_770_000_000, model: 'sim', choices: [{ index: 0, delta, finish_reason: finish }] });

/** A stream of `words`; the final usage chunk is sent when `u` is given (as OpenAI does when asked). */
export function openaiStream(words: string[], u?: OpenAIUsage, options: { delayMs?: number; hangAfter?: number } = {}): Reply {
  const frames: SseFrame[] = [{ data: chunk({ role: 'assistant', content: '' }) }];
  for (const w of words) frames.push({ data: chunk({ content: w }) });
  frames.push({ data: chunk({}, 'stop') });
  if (u) frames.push({ data: JSON.stringify({ id: 'chatcmpl-bill', object: 'chat.completion.chunk', created: 1_770_000_000, model: 'sim', choices: [], usage: u }) });
  frames.push({ data: '[DONE]' });
  return { kind: 'sse', frames, ...options };
}

/** The same usage whether the client streams or not. */
export function openaiEither(u: OpenAIUsage, options: { delayMs?: number } = {}): (req: RecordedRequest) => Reply {
  return (req) => (req.body?.stream ? openaiStream(['Billed ', 'answer.'], u, options) : openaiJson(u));
}
