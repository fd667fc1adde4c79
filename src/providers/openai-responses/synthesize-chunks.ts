// A whole chat.completion as the chunk sequence a streaming client expects, for upstream models that
// cannot stream (o1-pro): role, reasoning, content, tool calls, finish, then usage.

import type { ChatCompletion, ChatCompletionChunk, ChunkDelta } from '../types.js';

export function completionToChunks(completion: ChatCompletion): ChatCompletionChunk[] {
  const base = { id: completion.id, object: 'chat.completion.chunk' as const, created: completion.created, model: completion.model };
  const chunks: ChatCompletionChunk[] = [];
  for (const choice of completion.choices) {
    const emit = (delta: ChunkDelta, finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null) =>
      chunks.push({ ...base, choices: [{ index: choice.index, delta, logprobs: null, finish_reason: finish }] });
    const m = choice.message;
    emit({ role: 'assistant', content: '' });
    if (m.reasoning_content) emit({ reasoning_content: m.reasoning_content });
    if (m.content) emit({ content: m.content });
    if (m.refusal) emit({ refusal: m.refusal });
    m.tool_calls?.forEach((call, index) =>
      emit({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }] }),
    );
    emit({}, choice.finish_reason ?? 'stop');
  }
  if (completion.usage) chunks.push({ ...base, choices: [], usage: completion.usage });
  return chunks;
}
