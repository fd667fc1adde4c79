// Folds chat.completion.chunk objects back into what a client reads from a stream, so tests can
// compare a streamed answer with a whole one and check the chunk sequence rules clients rely on.

import type { ChatCompletionChunk, FinishReason, ToolCall, Usage } from '../../src/providers/types.js';

export interface FoldedStream {
  role?: string;
  content: string;
  reasoning: string;
  refusal: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason | null;
  usage?: Usage;
  ids: Set<string>;
  models: Set<string>;
}

export function foldChunks(chunks: ChatCompletionChunk[]): FoldedStream {
  const folded: FoldedStream = { content: '', reasoning: '', refusal: '', toolCalls: [], finishReason: null, ids: new Set(), models: new Set() };
  for (const chunk of chunks) {
    folded.ids.add(chunk.id);
    folded.models.add(chunk.model);
    if (chunk.usage) folded.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const { delta } = choice;
      if (delta.role) folded.role ??= delta.role;
      if (typeof delta.content === 'string') folded.content += delta.content;
      if (typeof delta.reasoning_content === 'string') folded.reasoning += delta.reasoning_content;
      if (typeof delta.refusal === 'string') folded.refusal += delta.refusal;
      for (const call of delta.tool_calls ?? []) {
        const known = folded.toolCalls[call.index];
        if (!known) {
          if (call.index !== folded.toolCalls.length) throw new Error(`tool call index ${call.index} skips ahead of ${folded.toolCalls.length}`);
          if (!call.id || call.type !== 'function' || !call.function?.name) throw new Error(`tool call ${call.index} opened without id/type/name`);
          folded.toolCalls.push({ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments ?? '' } });
        } else {
          known.function.arguments += call.function?.arguments ?? '';
        }
      }
      if (choice.finish_reason) folded.finishReason = choice.finish_reason;
    }
  }
  return folded;
}

/** The rules of client-expectations.md: role first, one finish chunk, usage chunk last with no choices. */
export function chunkSequenceProblems(chunks: ChatCompletionChunk[]): string[] {
  const problems: string[] = [];
  if (chunks[0]?.choices[0]?.delta.role !== 'assistant') problems.push('first chunk does not carry role assistant');
  const finishes = chunks.filter((c) => c.choices.some((choice) => choice.finish_reason));
  if (finishes.length !== 1) problems.push(`expected one finish chunk, got ${finishes.length}`);
  const usageAt = chunks.findIndex((c) => c.usage);
  if (usageAt >= 0 && (usageAt !== chunks.length - 1 || chunks[usageAt]!.choices.length !== 0)) {
    problems.push('usage chunk is not the last, choice-less chunk');
  }
  if (new Set(chunks.map((c) => c.id)).size > 1) problems.push('chunks disagree on id');
  return problems;
}
