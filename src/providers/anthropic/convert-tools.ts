// OpenAI tools + tool_choice + parallel_tool_calls → Anthropic tools + tool_choice.

import type { ChatRequest, FunctionTool, ToolChoice } from '../types.js';
import { claudeVersion, type ParamContext } from './params.js';
import type { CacheControl, ToolChoiceParam, ToolParam } from './wire-types.js';

export interface ToolsPlan {
  tools?: ToolParam[];
  tool_choice?: ToolChoiceParam;
  /** tool_choice any/tool: the model must call a tool (Anthropic then refuses thinking). */
  forcedTool: boolean;
}

/** Anthropic requires an object schema; OpenAI allows parameters to be absent or `{}`. */
function inputSchema(parameters: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!parameters || Object.keys(parameters).length === 0) return { type: 'object', properties: {} };
  return parameters.type === undefined ? { type: 'object', ...parameters } : parameters;
}

function convertTool(tool: FunctionTool, ctx: ParamContext): ToolParam {
  const fn = tool.function;
  const out: ToolParam = { name: fn.name, input_schema: inputSchema(fn.parameters) };
  if (fn.description) out.description = fn.description;
  if (fn.strict === true) {
    // Strict tool use (guaranteed schema-valid input) exists from the 4.5 generation on.
    const version = claudeVersion(ctx.upstreamModel);
    if (version !== undefined && version >= 4.5) out.strict = true;
    else ctx.onDrop('tools[].function.strict', { tool: fn.name, reason: 'this model has no strict tool use' });
  }
  // Prompt caching: clients that know Anthropic (LiteLLM and OpenRouter users) mark tools to cache.
  const cacheControl = (tool as unknown as { cache_control?: CacheControl }).cache_control;
  if (cacheControl && typeof cacheControl === 'object') out.cache_control = cacheControl;
  return out;
}

function convertChoice(choice: ToolChoice | undefined): ToolChoiceParam | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any' };
  return { type: 'tool', name: choice.function.name };
}

export function convertTools(req: ChatRequest, ctx: ParamContext): ToolsPlan {
  if (!req.tools || req.tools.length === 0) {
    // Anthropic rejects tool_choice without tools; without tools there is nothing to choose anyway.
    if (req.tool_choice !== undefined && req.tool_choice !== 'none') ctx.onDrop('tool_choice', { reason: 'no tools in the request' });
    return { forcedTool: false };
  }
  const tools = req.tools.map((t) => convertTool(t, ctx));
  let choice = convertChoice(req.tool_choice);
  if (req.parallel_tool_calls === false) {
    // Anthropic puts this switch on tool_choice, so an absent choice becomes an explicit auto.
    choice ??= { type: 'auto' };
    if (choice.type !== 'none') choice.disable_parallel_tool_use = true;
  }
  return {
    tools,
    ...(choice ? { tool_choice: choice } : {}),
    forcedTool: choice?.type === 'any' || choice?.type === 'tool',
  };
}
