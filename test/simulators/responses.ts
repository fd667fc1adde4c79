// Default OpenAI Responses API replies (POST /v1/responses, o1-pro's upstream): an echo of the last user
// input as a Response object, always with a reasoning item carrying a summary and usage that counts its
// reasoning tokens; a function_call when tools are given with tool_choice required (or a named function);
// `incomplete` at max_output_tokens; and, with stream:true, the same answer as `event:`-named response.* SSE.
// It refuses what the real API refuses, so a bad translation fails here as it would upstream:
// flat tools only, function_call_output only for a call in the input, max_output_tokens >= 16,
// and for reasoning models (o-series, *-pro) no temperature/top_p, and no streaming for *-pro models.

import type { RecordedRequest, Reply, SseFrame } from './server.js';
import { simTokens } from './defaults.js';

interface InputItem {
  type?: string;
  role?: string;
  content?: unknown;
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: unknown;
}

interface FunctionTool {
  type?: string;
  name?: string;
  parameters?: { properties?: Record<string, { type?: string }>; required?: string[] };
}

const isReasoningModel = (model: string) => /^o\d/.test(model) || /-pro$/.test(model);

function invalid(message: string, param: string | null, code: string | null = null, status = 400): Reply {
  return { kind: 'json', status, body: { error: { message, type: 'invalid_request_error', param, code } } };
}

/** What the last user message said, in the words a test can look for: text, images, files. */
function lastUserInput(input: string | InputItem[]): string {
  if (typeof input === 'string') return input;
  const last = [...input].reverse().find((item) => (item.type === undefined || item.type === 'message') && item.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  const said: string[] = [];
  for (const part of Array.isArray(last.content) ? last.content : []) {
    if (part?.type === 'input_text') said.push(part.text);
    if (part?.type === 'input_image') said.push(`[image ${String(part.image_url).slice(0, 40)}]`);
    if (part?.type === 'input_file') said.push(`[file ${part.filename ?? part.file_id ?? 'inline'}]`);
  }
  return said.join(' ');
}

/** Plausible arguments for a forced call: each required property filled by its type. */
function argumentsFor(tool: FunctionTool, question: string): string {
  const args: Record<string, unknown> = {};
  const props = tool.parameters?.properties ?? {};
  for (const name of tool.parameters?.required ?? Object.keys(props)) {
    const type = props[name]?.type;
    args[name] = type === 'number' || type === 'integer' ? 42 : type === 'boolean' ? true : type === 'array' ? [] : type === 'object' ? {} : question;
  }
  return JSON.stringify(args);
}

function forcedTool(body: any): FunctionTool | undefined {
  const tools: FunctionTool[] = (body.tools ?? []).filter((t: FunctionTool) => t.type === 'function');
  const choice = body.tool_choice;
  if (choice === 'required') return tools[0];
  if (choice?.type === 'function') return tools.find((t) => t.name === choice.name);
  return undefined;
}

/** Words with their trailing space, so a token cut and the stream split fall on word edges. */
const words = (text: string) => text.split(/(?<= )/);

function validate(req: RecordedRequest): Reply | undefined {
  if (!/^Bearer \S+/.test(String(req.headers.authorization ?? ''))) {
    return invalid("You didn't provide an API key.", null, 'invalid_api_key', 401);
  }
  if (req.method !== 'POST' || req.path !== '/v1/responses') return invalid(`Invalid URL (${req.method} ${req.path})`, null, null, 404);
  const body = req.body;
  if (!body || typeof body.model !== 'string') return invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) {
    return invalid("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  }
  if (isReasoningModel(body.model)) {
    for (const param of ['temperature', 'top_p']) {
      if (body[param] !== undefined) return invalid(`Unsupported parameter: '${param}' is not supported with this model.`, param);
    }
    if (/-pro$/.test(body.model) && body.stream === true) {
      return invalid("Unsupported value: 'stream' does not support true with this model.", 'stream', 'unsupported_value');
    }
  }
  if (typeof body.max_output_tokens === 'number' && body.max_output_tokens < 16) {
    return invalid(
      `Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got ${body.max_output_tokens} instead.`,
      'max_output_tokens',
      'integer_below_min_value',
    );
  }
  for (const [i, tool] of (body.tools ?? []).entries()) {
    if (tool.type === 'function' && typeof tool.name !== 'string') {
      return invalid(`Missing required parameter: 'tools[${i}].name'.`, `tools[${i}].name`, 'missing_required_parameter');
    }
  }
  const items: InputItem[] = Array.isArray(body.input) ? body.input : [];
  const calls = new Set(items.filter((item) => item.type === 'function_call').map((item) => item.call_id));
  for (const item of items) {
    if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
      return invalid(`No tool call found for function call output with call_id ${item.call_id}.`, 'input');
    }
  }
  return undefined;
}

export function responsesReply(req: RecordedRequest): Reply {
  const refused = validate(req);
  if (refused) return refused;
  const body = req.body;
  const items: InputItem[] = Array.isArray(body.input) ? body.input : [];
  const lastItem = items.at(-1);
  const question = lastUserInput(body.input);

  // After a tool result the model answers from it; otherwise a forced tool choice makes it call one.
  let answer: string;
  let call: { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: string } | undefined;
  if (lastItem?.type === 'function_call_output') {
    const name = items.find((item) => item.type === 'function_call' && item.call_id === lastItem.call_id)?.name;
    answer = `Echo: ${name} returned ${typeof lastItem.output === 'string' ? lastItem.output : JSON.stringify(lastItem.output)}`;
  } else {
    const tool = forcedTool(body);
    if (tool) {
      call = { type: 'function_call', id: 'fc_sim_1', call_id: 'call_sim_1', name: tool.name!, arguments: argumentsFor(tool, question), status: 'completed' };
    }
    answer = call ? '' : `Echo: ${question}`;
  }
  const summary = `Thinking about: ${question}`;

  const reasoningTokens = simTokens(summary);
  let status = 'completed';
  let outputTokens = reasoningTokens + (call ? simTokens(call.arguments) : simTokens(answer));
  const cap = body.max_output_tokens;
  if (typeof cap === 'number' && outputTokens > cap) {
    // Reasoning is spent first; whatever budget remains goes to the visible answer, word by word.
    status = 'incomplete';
    let kept = '';
    for (const word of words(answer)) {
      if (reasoningTokens + simTokens(kept + word) > cap) break;
      kept += word;
    }
    answer = kept;
    call = undefined;
    outputTokens = cap;
  }
  const inputTokens = simTokens(JSON.stringify([body.instructions ?? null, body.input, body.tools ?? null]));
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: inputTokens + outputTokens,
  };

  const reasoning = { id: 'rs_sim_1', type: 'reasoning', summary: [{ type: 'summary_text', text: summary }] };
  const outputText = { type: 'output_text', text: answer, annotations: [], logprobs: [] };
  const message = { id: 'msg_sim_1', type: 'message', status: status === 'completed' ? 'completed' : 'incomplete', role: 'assistant', content: [outputText] };
  const output: any[] = [reasoning, ...(answer ? [message] : []), ...(call ? [call] : [])];

  const responseId = `resp_sim${req.rawBody.length}`;
  const envelope = (state: string, out: unknown[], withUsage: boolean) => ({
    id: responseId,
    object: 'response',
    created_at: 1_770_000_000,
    status: state,
    error: null,
    incomplete_details: state === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: `${body.model}-2025-03-19`,
    output: out,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: body.reasoning?.effort ?? 'medium', summary: body.reasoning?.summary ?? null },
    store: body.store ?? true,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    usage: withUsage ? usage : null,
    user: null,
    metadata: body.metadata ?? {},
  });

  if (body.stream !== true) return { kind: 'json', body: envelope(status, output, true) };

  const frames: SseFrame[] = [];
  const send = (type: string, payload: Record<string, unknown>) =>
    frames.push({ event: type, data: JSON.stringify({ type, sequence_number: frames.length, ...payload }) });
  send('response.created', { response: envelope('in_progress', [], false) });
  send('response.in_progress', { response: envelope('in_progress', [], false) });
  output.forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'reasoning') {
      send('response.output_item.added', { output_index, item: { ...item, summary: [] } });
      send('response.reasoning_summary_part.added', { item_id, output_index, summary_index: 0, part: { type: 'summary_text', text: '' } });
      for (const delta of words(summary)) send('response.reasoning_summary_text.delta', { item_id, output_index, summary_index: 0, delta });
      send('response.reasoning_summary_text.done', { item_id, output_index, summary_index: 0, text: summary });
      send('response.reasoning_summary_part.done', { item_id, output_index, summary_index: 0, part: { type: 'summary_text', text: summary } });
    } else if (item.type === 'message') {
      send('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      send('response.content_part.added', { item_id, output_index, content_index: 0, part: { ...outputText, text: '' } });
      for (const delta of words(answer)) send('response.output_text.delta', { item_id, output_index, content_index: 0, delta, logprobs: [] });
      send('response.output_text.done', { item_id, output_index, content_index: 0, text: answer, logprobs: [] });
      send('response.content_part.done', { item_id, output_index, content_index: 0, part: outputText });
    } else {
      send('response.output_item.added', { output_index, item: { ...item, arguments: '', status: 'in_progress' } });
      const half = Math.ceil(item.arguments.length / 2);
      for (const delta of [item.arguments.slice(0, half), item.arguments.slice(half)]) {
        send('response.function_call_arguments.delta', { item_id, output_index, delta });
      }
      send('response.function_call_arguments.done', { item_id, output_index, arguments: item.arguments });
    }
    send('response.output_item.done', { output_index, item });
  });
  send(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: envelope(status, output, true) });
  return { kind: 'sse', frames };
}
