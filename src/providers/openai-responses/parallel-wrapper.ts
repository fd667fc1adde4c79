// Some models answer parallel tool use with ONE undeclared function call named `parallel` whose
// arguments are {"tool_uses":[{"recipient_name":"functions.weather","parameters":{…}}, …]}
// (responses_parallel-tool-call-wrapper.1.json). A client never declared `parallel` and cannot run it,
// so it is expanded into the calls it wraps, unless the caller really has a tool of that name.

import type { ToolCall } from '../types.js';

export const PARALLEL_WRAPPER_NAME = 'parallel';

/** `tools` as the response echoes them; when absent, nothing says `parallel` is a real tool. */
export function declaresParallelTool(tools: Array<{ type?: string; name?: string }> | undefined): boolean {
  return Array.isArray(tools) && tools.some((t) => t?.name === PARALLEL_WRAPPER_NAME);
}

/** The wrapped calls, or undefined when the arguments are not the wrapper's shape. */
export function expandParallelWrapper(callId: string, args: string): ToolCall[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return undefined;
  }
  const uses = (parsed as { tool_uses?: unknown } | null)?.tool_uses;
  if (!Array.isArray(uses) || uses.length === 0) return undefined;
  const calls: ToolCall[] = [];
  for (const [i, use] of uses.entries()) {
    const recipient = (use as { recipient_name?: unknown } | null)?.recipient_name;
    if (typeof recipient !== 'string' || !recipient) return undefined;
    const parameters = (use as { parameters?: unknown }).parameters ?? {};
    calls.push({
      // Each wrapped call needs its own id for the tool message that answers it.
      id: `${callId}_${i}`,
      type: 'function',
      function: { name: recipient.replace(/^functions\./, ''), arguments: JSON.stringify(parameters) },
    });
  }
  return calls;
}
