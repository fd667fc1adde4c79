// Every recorded Responses API body and stream (OpenAI and xAI) goes through the translators.
// Many use server-side tools (web search, MCP, shell, code interpreter, image generation) that a
// chat-completions gateway cannot express: the translators must drop them, say so, and keep the rest.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadChunks, loadJson, recordedDir, recordedFiles } from '../../../test/fixtures/load.js';
import { chunkSequenceProblems, foldChunks, type FoldedStream } from '../../../test/support/chunks.js';
import { ProviderError, type ChatCompletion, type ChatCompletionChunk, type SseEvent } from '../types.js';
import { openaiResponsesAdapter } from './index.js';

const files = [
  ...recordedFiles('openai', (n) => n.startsWith('responses_')),
  ...recordedFiles('xai', (n) => n.startsWith('responses_')),
];
const bodies = files.filter((f) => f.endsWith('.json'));
const streams = files.filter((f) => f.endsWith('.chunks.txt'));

/** Output item types a chat completion can carry; everything else is a server-side tool's. */
const CHAT_ITEMS = new Set(['message', 'function_call', 'reasoning']);

function collector() {
  const drops: string[] = [];
  return { drops, ctx: { requestedModel: 'o1-pro', onDrop: (what: string) => drops.push(what) } };
}

function parse(body: unknown) {
  const { drops, ctx } = collector();
  return { ...openaiResponsesAdapter.parseResponse(body, ctx), drops };
}

function translate(events: SseEvent[]) {
  const { drops, ctx } = collector();
  const translator = openaiResponsesAdapter.createStreamTranslator(ctx);
  const chunks: ChatCompletionChunk[] = [];
  for (const event of events) chunks.push(...translator.push(event));
  chunks.push(...translator.finish());
  return { chunks, drops, folded: foldChunks(chunks), billable: translator.billableUsage() };
}

function payloads(events: SseEvent[]): any[] {
  return events.map((e) => {
    try {
      return JSON.parse(e.data);
    } catch {
      return {};
    }
  });
}

/** Some recordings hold several calls of one conversation back to back: split at response.created. */
function calls(events: SseEvent[]): SseEvent[][] {
  const out: SseEvent[][] = [];
  for (const [i, event] of events.entries()) {
    if (payloads([event])[0].type === 'response.created' || out.length === 0) out.push([]);
    out.at(-1)!.push(events[i]!);
  }
  return out;
}

function whole(completion: ChatCompletion) {
  const { message, finish_reason } = completion.choices[0]!;
  return {
    content: message.content ?? '',
    reasoning: message.reasoning_content ?? '',
    toolCalls: message.tool_calls ?? [],
    finishReason: finish_reason,
  };
}

function exactly(folded: FoldedStream) {
  return { content: folded.content, reasoning: folded.reasoning, toolCalls: folded.toolCalls, finishReason: folded.finishReason };
}

function shape(x: ReturnType<typeof whole>) {
  return {
    hasText: x.content !== '',
    toolNames: x.toolCalls.map((c) => c.function.name),
    finishReason: x.finishReason,
  };
}

/** Status each recorded error body was served with (the recordings keep only the body). */
const ERROR_STATUS: Record<string, number> = {
  'openai/responses_openai-error.1.json': 429,
  'openai/responses_reasoning-model-temperature-error.json': 400,
};

describe('recorded Responses bodies', () => {
  for (const file of bodies) {
    const body = loadJson(file);
    if (!Array.isArray(body.output) && body.error) {
      test(`${file} is an error body: mapError gives the client an OpenAI envelope`, () => {
        const error = openaiResponsesAdapter.mapError(ERROR_STATUS[file]!, JSON.stringify(body), {});
        assert.ok(error instanceof ProviderError);
        assert.ok(error.error.message.length > 0);
        if (body.error.code === 'insufficient_quota') {
          assert.equal(error.status, 502, 'an empty upstream account is the gateway operator\'s problem');
          assert.equal(error.retryable, false);
        } else {
          assert.equal(error.status, 400);
          assert.equal(error.error.param, body.error.param);
        }
      });
      continue;
    }
    test(`${file} translates, dropping only what chat cannot express`, () => {
      const { completion, billable, drops } = parse(body);
      const choice = completion.choices[0]!;
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.model, 'o1-pro');
      assert.ok(['stop', 'tool_calls', 'length', 'content_filter'].includes(choice.finish_reason!));
      assert.equal(completion.usage!.prompt_tokens, body.usage.input_tokens);
      assert.equal(completion.usage!.completion_tokens, body.usage.output_tokens);
      assert.equal(billable.inputTokens + billable.cachedInputTokens, body.usage.input_tokens);
      for (const call of choice.message.tool_calls ?? []) {
        assert.equal(call.type, 'function');
        assert.doesNotThrow(() => JSON.parse(call.function.arguments), 'arguments are a JSON string');
      }
      const serverItems = body.output.filter((item: any) => !CHAT_ITEMS.has(item.type));
      for (const item of serverItems) {
        assert.ok(drops.includes(`output item ${item.type}`), `${item.type} was dropped without a report`);
      }
      if (serverItems.length === 0) assert.ok(drops.every((d) => d !== 'output item undefined'));
    });
  }
});

describe('recorded Responses streams', () => {
  for (const file of streams) {
    const events = loadChunks(file);
    const eventTypes = payloads(events).map((p) => p.type);
    if (eventTypes.includes('error')) {
      test(`${file}: the error event ends the stream with a ProviderError`, () => {
        const { ctx } = collector();
        const translator = openaiResponsesAdapter.createStreamTranslator(ctx);
        const seen: ChatCompletionChunk[] = [];
        assert.throws(
          () => {
            for (const event of events) seen.push(...translator.push(event));
          },
          (error: unknown) => error instanceof ProviderError && error.status === 502 && !error.retryable,
        );
        assert.equal(seen[0]?.choices[0]?.delta.role, 'assistant');
        assert.ok(seen.every((c) => c.choices.every((choice) => choice.finish_reason === null)), 'no finish before the error');
      });
      continue;
    }
    test(`${file} translates into a well-formed chunk stream`, () => {
      const first = calls(events)[0]!;
      const { chunks, drops, folded, billable } = translate(first);
      assert.deepEqual(chunkSequenceProblems(chunks), []);
      assert.deepEqual([...folded.models], ['o1-pro']);
      assert.ok(folded.finishReason);
      const completed = payloads(first).find((p) => p.type === 'response.completed');
      if (completed) {
        assert.equal(folded.usage?.prompt_tokens, completed.response.usage.input_tokens);
        assert.equal(billable?.outputTokens, completed.response.usage.output_tokens);
      }
      const serverItems = payloads(first).filter((p) => p.type === 'response.output_item.added' && !CHAT_ITEMS.has(p.item?.type));
      if (serverItems.length) assert.ok(drops.some((d) => d.startsWith('output item ')), 'server tool items were reported');
    });
  }
});

describe('streamed and whole answers of the same call agree', () => {
  // A stream's terminal response.completed carries the whole response of the same call.
  for (const file of streams) {
    const first = calls(loadChunks(file))[0]!;
    const completed = payloads(first).find((p) => p.type === 'response.completed');
    if (!completed?.response.output?.length) continue;
    const streamed = translate(first);
    const selfInconsistent = streamed.drops.includes('output_text.done that contradicts the streamed deltas');
    const title = selfInconsistent
      ? `${file}: structurally equal to its own response.completed (its recorded deltas were abridged and disagree with its .done text)`
      : `${file}: text, reasoning and tool calls equal its own response.completed`;
    test(title, () => {
      const expected = whole(parse(completed.response).completion);
      if (selfInconsistent) assert.deepEqual(shape(exactly(streamed.folded)), shape(expected));
      else assert.deepEqual(exactly(streamed.folded), expected);
    });
  }

  // The .json beside a stream: the same call when the response ids match, else a separate recording of
  // the same scenario, where only the shape can agree (same tools called, text or not, finish reason).
  // Some recordings hold several calls of one conversation; the .json then matches one of them.
  for (const file of streams) {
    const jsonFile = file.replace(/\.chunks\.txt$/, '.json');
    if (!existsSync(join(recordedDir, jsonFile))) continue;
    const body = loadJson(jsonFile);
    if (!Array.isArray(body.output)) continue;
    const recorded = calls(loadChunks(file)).map(translate);
    const sameCall = recorded.length === 1 && readFileSync(join(recordedDir, file), 'utf8').includes(`"id":"${body.id}"`);
    const selfInconsistent = recorded[0]!.drops.includes('output_text.done that contradicts the streamed deltas');
    const exact = sameCall && !selfInconsistent;
    const how = exact ? 'same call, equal' : sameCall ? 'same call but abridged deltas, structurally equal' : 'different calls, structurally equal';
    test(`${file} vs ${jsonFile}: ${how}`, () => {
      const expected = whole(parse(body).completion);
      if (exact) {
        assert.deepEqual(exactly(recorded[0]!.folded), expected);
        return;
      }
      const shapes = recorded.map((r) => shape(exactly(r.folded)));
      assert.ok(
        shapes.some((s) => JSON.stringify(s) === JSON.stringify(shape(expected))),
        `no recorded call has the shape ${JSON.stringify(shape(expected))}: ${JSON.stringify(shapes)}`,
      );
    });
  }
});
