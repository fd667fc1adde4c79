// Default OpenAI-compatible replies (OpenAI, DeepSeek, xAI): an echo of the last user message, with
// reasoning for reasoning models, streamed word by word when asked, usage as each vendor reports it.

import type { RecordedRequest, Reply, SseFrame } from './server.js';
import { lastUserText, simTokens } from './defaults.js';

const REASONING_MODELS = new Set(['deepseek-reasoner', 'grok-3-mini']);

export function openaiChatReply(req: RecordedRequest): Reply {
  const body = req.body ?? {};
  const question = lastUserText(body.messages);
  const answer = `Echo: ${question}`;
  const reasoning = REASONING_MODELS.has(body.model) ? `Thinking about: ${question}` : undefined;
  const promptTokens = simTokens(JSON.stringify(body.messages ?? []));
  const reasoningTokens = reasoning ? simTokens(reasoning) : 0;
  const completionTokens = simTokens(answer) + reasoningTokens;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
  const id = 'chatcmpl-sim';
  const model = `${body.model}-sim-2025`;
  const created = 1_770_000_000;
  if (!body.stream) {
    return {
      kind: 'json',
      body: {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer, refusal: null, ...(reasoning ? { reasoning_content: reasoning } : {}) },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
        system_fingerprint: 'fp_sim',
      },
    };
  }
  const chunk = (delta: object, finish: string | null = null) =>
    JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });
  const frames: SseFrame[] = [{ data: chunk({ role: 'assistant', content: '', refusal: null }) }];
  if (reasoning) frames.push({ data: chunk({ reasoning_content: reasoning }) });
  for (const word of answer.split(/(?<= )/)) frames.push({ data: chunk({ content: word }) });
  frames.push({ data: chunk({}, 'stop') });
  if (body.stream_options?.include_usage) {
    frames.push({ data: JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }) });
  }
  frames.push({ data: '[DONE]' });
  return { kind: 'sse', frames };
}
