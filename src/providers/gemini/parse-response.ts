// A whole GenerateContentResponse → chat.completion.

import type { ChatCompletion, ChatCompletionMessage, ParsedResponse, ToolCall, TranslateContext } from '../types.js';
import { googleError, googleErrorOf } from './map-error.js';
import { mapFinishReason, promptBlockReason } from './map-finish-reason.js';
import { mapBillableUsage, mapUsage } from './map-usage.js';
import {
  argumentsJson,
  completionId,
  mapLogprobs,
  readPart,
  toolCallId,
  type GeminiCandidate,
  type GeminiResponse,
} from './response-types.js';

/** Candidate metadata that has no place in a chat completion; dropped quietly when it is routine. */
const ROUTINE_CANDIDATE_FIELDS = new Set(['content', 'finishReason', 'finishMessage', 'index', 'logprobsResult', 'safetyRatings', 'avgLogprobs', 'tokenCount']);

type Choice = ChatCompletion['choices'][number];

function candidateChoice(
  candidate: GeminiCandidate,
  position: number,
  nextCallNumber: () => number,
  responseId: string | undefined,
  ctx: TranslateContext,
): Choice {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  let signatureDropped = false;
  for (const part of candidate.content?.parts ?? []) {
    if (part.thoughtSignature) signatureDropped = true;
    const read = readPart(part);
    if (read.kind === 'text') texts.push(read.text);
    else if (read.kind === 'thought') thoughts.push(read.text);
    else if (read.kind === 'call') {
      toolCalls.push({
        id: toolCallId(responseId, nextCallNumber(), read.call.id),
        type: 'function',
        function: { name: read.call.name ?? '', arguments: argumentsJson(read.call.args) },
      });
    } else if (read.kind === 'unknown') ctx.onDrop('response part', { keys: read.keys });
  }
  if (signatureDropped) ctx.onDrop('thoughtSignature', 'OpenAI clients cannot carry it back');
  for (const key of Object.keys(candidate)) {
    if (!ROUTINE_CANDIDATE_FIELDS.has(key)) ctx.onDrop('candidate field', { key });
  }

  const text = texts.join('');
  const message: ChatCompletionMessage = {
    role: 'assistant',
    // OpenAI sends null beside tool calls and '' for an answer that is empty.
    content: text !== '' ? text : toolCalls.length > 0 ? null : '',
    refusal: null,
  };
  if (thoughts.length > 0) message.reasoning_content = thoughts.join('');
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const finish = mapFinishReason(candidate.finishReason, toolCalls.length > 0, (reason) =>
    ctx.onDrop('finishReason', { reason, message: candidate.finishMessage }),
  );
  return { index: candidate.index ?? position, message, logprobs: mapLogprobs(candidate.logprobsResult), finish_reason: finish };
}

export function parseGeminiResponse(body: unknown, ctx: TranslateContext): ParsedResponse {
  // Without alt=sse a stream is a JSON array of responses; a caller that collected one hands us that.
  const responses = (Array.isArray(body) ? body : [body]) as GeminiResponse[];
  const error = googleErrorOf(responses.find((r) => r && typeof r === 'object' && 'error' in r));
  if (error) throw googleError(undefined, error);
  const response = responses.length === 1 ? responses[0] : mergeResponses(responses);

  let calls = 0;
  const nextCallNumber = () => calls++;
  const blocked = promptBlockReason(response);
  const choices: Choice[] = blocked
    ? [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'content_filter' }]
    : (response.candidates ?? [])
        .map((c, i) => candidateChoice(c, i, nextCallNumber, response.responseId, ctx))
        .sort((a, b) => a.index - b.index);
  if (blocked) ctx.onDrop('promptFeedback', { blockReason: blocked, message: response.promptFeedback?.blockReasonMessage });
  if (choices.length === 0) {
    ctx.onDrop('response', 'no candidates');
    choices.push({ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'stop' });
  }

  const meta = response.usageMetadata ?? {};
  return {
    completion: {
      id: completionId(response.responseId),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: ctx.requestedModel,
      choices,
      usage: mapUsage(meta),
      system_fingerprint: null,
    },
    billable: mapBillableUsage(meta),
  };
}

/** Folds the responses of a collected JSON-array stream into one: parts appended per candidate, last usage wins. */
function mergeResponses(responses: GeminiResponse[]): GeminiResponse {
  const merged: GeminiResponse = {};
  const byIndex = new Map<number, GeminiCandidate>();
  for (const r of responses) {
    merged.responseId ??= r.responseId;
    merged.modelVersion ??= r.modelVersion;
    if (r.usageMetadata) merged.usageMetadata = r.usageMetadata;
    if (r.promptFeedback) merged.promptFeedback = r.promptFeedback;
    for (const c of r.candidates ?? []) {
      const index = c.index ?? 0;
      const into = byIndex.get(index) ?? { index, content: { role: 'model', parts: [] } };
      into.content!.parts!.push(...(c.content?.parts ?? []));
      if (c.finishReason) into.finishReason = c.finishReason;
      if (c.finishMessage) into.finishMessage = c.finishMessage;
      byIndex.set(index, into);
    }
  }
  if (byIndex.size > 0) merged.candidates = [...byIndex.values()];
  return merged;
}
