// A whole chat.completion → the chunks a streaming upstream would have sent, for models that cannot
// stream (o1-pro): the pipeline calls them whole and replays the answer to a client that asked to stream.
// Generic on purpose: it knows nothing of the Responses API and works for any ChatCompletion.

import type { ChatCompletion, ChatCompletionChunk, ChunkDelta, FinishReason } from '../types.js';

export function completionToChunks(completion: ChatCompletion): ChatCompletionChunk[] {
  const chunk = (choiceIndex: number, delta: ChunkDelta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    ...(completion.system_fingerprint !== undefined ? { system_fingerprint: completion.system_fingerprint } : {}),
    choices: [{ index: choiceIndex, delta, logprobs: null, finish_reason: finishReason }],
  });

  const chunks: ChatCompletionChunk[] = [];
  for (const choice of completion.choices) {
    const { message } = choice;
    chunks.push(chunk(choice.index, { role: 'assistant', content: '' }));
    if (message.reasoning_content) chunks.push(chunk(choice.index, { reasoning_content: message.reasoning_content }));
    if (typeof message.content === 'string' && message.content !== '') {
      chunks.push(chunk(choice.index, { content: message.content }));
    }
    if (message.refusal) chunks.push(chunk(choice.index, { refusal: message.refusal }));
    for (const [index, call] of (message.tool_calls ?? []).entries()) {
      // Same shape as a real stream: the first delta names the call with empty arguments, the next carries them.
      chunks.push(
        chunk(choice.index, {
          tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }],
        }),
      );
      if (call.function.arguments) {
        chunks.push(chunk(choice.index, { tool_calls: [{ index, function: { arguments: call.function.arguments } }] }));
      }
    }
    chunks.push(chunk(choice.index, {}, choice.finish_reason ?? 'stop'));
  }
  if (completion.usage) {
    chunks.push({ ...chunk(0, {}), choices: [], usage: completion.usage });
  }
  return chunks;
}
