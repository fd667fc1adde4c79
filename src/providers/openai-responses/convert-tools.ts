// Chat tools and tool_choice → Responses tools (flat: no nested `function` object) and tool_choice.

import type { FunctionTool, ToolChoice } from '../types.js';
import type { DropReporter } from './params.js';

export interface ResponsesFunctionTool {
  type: 'function';
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  strict: boolean;
}

export type ResponsesToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; name: string }
  | { type: 'allowed_tools'; mode: string; tools: Array<{ type: 'function'; name: string }> };

const NO_PARAMETERS = { type: 'object', properties: {} };

export function convertTools(tools: FunctionTool[]): ResponsesFunctionTool[] {
  return tools.map(({ function: fn }) => ({
    type: 'function',
    name: fn.name,
    ...(fn.description !== undefined ? { description: fn.description } : {}),
    // Chat lets a tool omit parameters (no arguments); the Responses API wants a schema.
    parameters: fn.parameters ?? NO_PARAMETERS,
    // Responses defaults `strict` to true, which rejects most hand-written schemas (it demands
    // additionalProperties:false and every property required). Chat's default is false: keep it.
    strict: fn.strict ?? false,
  }));
}

/** Newer chat clients send `{type:"allowed_tools", allowed_tools:{mode, tools:[{type, function:{name}}]}}`. */
interface ChatAllowedTools {
  type: 'allowed_tools';
  allowed_tools: { mode?: string; tools?: Array<{ function?: { name?: string } }> };
}

export function convertToolChoice(choice: ToolChoice | ChatAllowedTools, onDrop: DropReporter): ResponsesToolChoice | undefined {
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  if (choice && typeof choice === 'object') {
    if (choice.type === 'function' && 'function' in choice && typeof choice.function?.name === 'string') {
      return { type: 'function', name: choice.function.name };
    }
    if (choice.type === 'allowed_tools' && 'allowed_tools' in choice) {
      const names = (choice.allowed_tools.tools ?? []).map((t) => t.function?.name).filter((n): n is string => typeof n === 'string');
      return { type: 'allowed_tools', mode: choice.allowed_tools.mode ?? 'auto', tools: names.map((name) => ({ type: 'function', name })) };
    }
  }
  onDrop('tool_choice', { reason: 'unrecognised form', value: choice });
  return undefined;
}
