// The messages sent upstream for a turn: preset (system), the stored turns that fit, the new question.
// History stays in the canonical (OpenAI) form whatever model answered it; the adapters translate it,
// so a conversation can move between providers from one turn to the next.
// Too long a history is trimmed oldest-first, by whole turns, with token counts from the tokenizer
// (o200k, the one OpenAI models use; other vendors' tokenizers get a safety margin).

import type { ChatMessage, UserContentPart, UserMessage } from '../providers/types.js';
import type { ModelEntry } from '../catalog/types.js';
import { estimatePromptTokens } from '../billing/estimate-tokens.js';
import { invalidRequest } from '../gateway/errors.js';

/** Without max_tokens, room is kept for the model's max output, but never more than this share of its window. */
const MAX_OUTPUT_SHARE = 0.25;
/** Other vendors count a text in up to ~20% more tokens than o200k does. */
const OTHER_TOKENIZER_MARGIN = 1.2;
/** What an assistant turn that produced no text says in later history (no upstream accepts an empty one). */
const NO_ANSWER = '(no answer)';

export interface HistoryTurn {
  question: UserMessage['content'];
  answer: string;
  /** Tokens of the turn's two messages, counted when it was stored. */
  tokens: number;
}

export interface BuiltHistory {
  messages: ChatMessage[];
  droppedTurns: number;
  /** Tokenizer count of `messages`, as estimatePromptTokens gives it. */
  promptTokens: number;
}

/** The prompt tokens a turn may use on this model: its window minus the room kept for the answer. */
export function promptBudget(model: ModelEntry, maxTokens?: number): number {
  const output = maxTokens ?? Math.min(model.maxOutput, Math.floor(model.contextWindow * MAX_OUTPUT_SHARE));
  const margin = model.provider === 'openai' ? 1 : OTHER_TOKENIZER_MARGIN;
  return Math.floor(Math.max(0, model.contextWindow - output) / margin);
}

/** Tokens a stored turn adds to a prompt: both messages, framing included. */
export function turnTokens(question: UserMessage['content'], answer: string): number {
  return estimatePromptTokens([{ role: 'user', content: question }, { role: 'assistant', content: answer || NO_ANSWER }]) - estimatePromptTokens([]);
}

/** Images of earlier turns cannot go to a model without vision: each becomes a short text note instead. */
function withoutImages(content: UserMessage['content']): UserMessage['content'] {
  if (typeof content === 'string') return content;
  const parts: UserContentPart[] = content.map((p) => {
    if (p.type !== 'image_url') return p;
    const url = (p as { image_url: { url: string } }).image_url.url;
    return { type: 'text', text: url.startsWith('data:') ? '[image]' : `[image: ${url}]` };
  });
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('\n') : parts;
}

export function buildHistory(input: {
  model: ModelEntry;
  preset?: string | null;
  turns: HistoryTurn[];
  question: UserMessage['content'];
  maxTokens?: number;
}): BuiltHistory {
  const budget = promptBudget(input.model, input.maxTokens);
  const head: ChatMessage[] = input.preset ? [{ role: 'system', content: input.preset }] : [];
  const tail: ChatMessage[] = [{ role: 'user', content: input.question }];
  const fixed = estimatePromptTokens([...head, ...tail]);
  if (fixed > budget) {
    throw invalidRequest(
      `This turn alone (question, references and preset) is about ${fixed} tokens; ${input.model.id} has room for ${budget} ` +
        `prompt tokens (context window ${input.model.contextWindow}, minus room for the answer). Shorten the question or its references.`,
      'question',
      'context_length_exceeded',
    );
  }
  let used = fixed;
  let kept = 0;
  for (let i = input.turns.length - 1; i >= 0; i--) {
    if (used + input.turns[i].tokens > budget) break;
    used += input.turns[i].tokens;
    kept++;
  }
  const vision = input.model.capabilities.vision;
  const history: ChatMessage[] = input.turns.slice(input.turns.length - kept).flatMap((t): ChatMessage[] => [
    { role: 'user', content: vision ? t.question : withoutImages(t.question) },
    { role: 'assistant', content: t.answer || NO_ANSWER },
  ]);
  return { messages: [...head, ...history, ...tail], droppedTurns: input.turns.length - kept, promptTokens: used };
}
