// OpenAI `tools` + `tool_choice` → Gemini `tools[].functionDeclarations` + `toolConfig`.

import type { FunctionTool, ToolChoice } from '../types.js';
import { cleanSchema, isEmptyObjectSchema } from './clean-schema.js';

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface GeminiToolConfig {
  functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] };
}

export interface ConvertedTools {
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: GeminiToolConfig;
}

type OnDrop = (what: string, detail?: unknown) => void;

export function convertTools(tools: FunctionTool[] | undefined, toolChoice: ToolChoice | undefined, onDrop: OnDrop): ConvertedTools {
  const declarations: GeminiFunctionDeclaration[] = [];
  for (const tool of tools ?? []) {
    if (tool.type !== 'function' || !tool.function?.name) {
      onDrop('tool', { type: tool.type, reason: 'only function tools are supported' });
      continue;
    }
    const fn = tool.function;
    const declaration: GeminiFunctionDeclaration = { name: fn.name };
    if (fn.description) declaration.description = fn.description;
    // A no-argument function must go without `parameters`: an empty OBJECT schema is rejected.
    if (fn.parameters && !isEmptyObjectSchema(fn.parameters)) {
      const { schema, dropped } = cleanSchema(fn.parameters, `tools.${fn.name}.parameters`);
      if (dropped.length > 0) onDrop('tool schema keywords', dropped);
      declaration.parameters = schema;
    }
    // Gemini has no strict mode; the declaration alone constrains the call.
    if (fn.strict === true) onDrop('tool strict', { name: fn.name });
    declarations.push(declaration);
  }

  if (declarations.length === 0) {
    if (toolChoice !== undefined && toolChoice !== 'none' && toolChoice !== 'auto') onDrop('tool_choice', 'no tools to choose from');
    return {};
  }

  return { tools: [{ functionDeclarations: declarations }], toolConfig: toolConfigFor(toolChoice, declarations, onDrop) };
}

function toolConfigFor(choice: ToolChoice | undefined, declarations: GeminiFunctionDeclaration[], onDrop: OnDrop): GeminiToolConfig | undefined {
  if (choice === undefined) return undefined; // Gemini's default is AUTO
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  const name = choice.function?.name;
  if (!declarations.some((d) => d.name === name)) {
    onDrop('tool_choice', { name, reason: 'no tool of that name; the model may call any tool' });
    return { functionCallingConfig: { mode: 'ANY' } };
  }
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
}
