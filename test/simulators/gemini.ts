// Default Gemini replies (generateContent and streamGenerateContent): an echo of the last user turn as
// a GenerateContentResponse, with usageMetadata as Gemini counts it, a thought part when thoughts were
// asked for, a functionCall when the request forces one (mode ANY), MAX_TOKENS when maxOutputTokens
// cuts the answer, and the stream as several SSE events (or a JSON array without alt=sse).

import type { RecordedRequest, Reply, SseFrame } from './server.js';
import { simTokens } from './defaults.js';

interface Part {
  text?: string;
  thought?: boolean;
  inlineData?: { mimeType: string; data: string };
  functionCall?: { name: string; args: Record<string, unknown> };
  functionResponse?: { name: string; response: unknown };
}

interface Content {
  role?: string;
  parts?: Part[];
}

interface FunctionDeclaration {
  name: string;
  parameters?: { properties?: Record<string, { type?: string }>; required?: string[] };
}

/** What the last user turn said: its text, and the results of any tools it answers. */
function lastUserTurn(contents: Content[] | undefined): string {
  const last = [...(contents ?? [])].reverse().find((c) => c.role === 'user');
  const said: string[] = [];
  for (const part of last?.parts ?? []) {
    if (typeof part.text === 'string' && part.text !== '') said.push(part.text);
    if (part.functionResponse) said.push(`${part.functionResponse.name} returned ${JSON.stringify(part.functionResponse.response)}`);
    if (part.inlineData) said.push(`[${part.inlineData.mimeType}, ${Buffer.from(part.inlineData.data, 'base64').length} bytes]`);
  }
  return said.join(' ');
}

/** Plausible arguments for a forced call: each required property filled by its type. */
function argumentsFor(declaration: FunctionDeclaration, question: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const props = declaration.parameters?.properties ?? {};
  for (const name of declaration.parameters?.required ?? Object.keys(props)) {
    const type = props[name]?.type?.toLowerCase();
    args[name] = type === 'number' || type === 'integer' ? 42 : type === 'boolean' ? true : type === 'array' ? [] : type === 'object' ? {} : question;
  }
  return args;
}

function forcedCall(body: any, question: string): Part | undefined {
  const config = body.toolConfig?.functionCallingConfig;
  if (config?.mode !== 'ANY') return undefined;
  const declarations: FunctionDeclaration[] = (body.tools ?? []).flatMap((t: any) => t.functionDeclarations ?? []);
  const allowed: string[] | undefined = config.allowedFunctionNames;
  const chosen = declarations.find((d) => !allowed || allowed.includes(d.name));
  return chosen ? { functionCall: { name: chosen.name, args: argumentsFor(chosen, question) } } : undefined;
}

/** Words (with their trailing space) so that a max-token cut and the stream split fall on word edges. */
function words(text: string): string[] {
  return text.split(/(?<= )/);
}

export function geminiReply(req: RecordedRequest): Reply {
  if (!req.headers['x-goog-api-key'] && !/[?&]key=/.test(req.path)) {
    return {
      kind: 'json',
      status: 403,
      body: { error: { code: 403, message: "Method doesn't allow unregistered callers (callers without established identity).", status: 'PERMISSION_DENIED' } },
    };
  }
  const match = /^\/v1beta\/models\/([^:/?]+):(generateContent|streamGenerateContent)(\?.*)?$/.exec(req.path);
  if (!match || req.method !== 'POST') {
    return { kind: 'json', status: 404, body: { error: { code: 404, message: `no route ${req.method} ${req.path}`, status: 'NOT_FOUND' } } };
  }
  const [, model, method, query] = match;
  const body = req.body ?? {};
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return { kind: 'json', status: 400, body: { error: { code: 400, message: '* GenerateContentRequest.contents: contents is not specified', status: 'INVALID_ARGUMENT' } } };
  }

  const config = body.generationConfig ?? {};
  const question = lastUserTurn(body.contents);
  const call = forcedCall(body, question);
  const thought = config.thinkingConfig?.includeThoughts ? `Thinking about: ${question}` : undefined;

  let answer = call ? '' : `Echo: ${question}`;
  let finishReason = 'STOP';
  if (!call && typeof config.maxOutputTokens === 'number') {
    // One simulated token per word: enough to make a small cap cut the answer.
    const all = words(answer);
    if (all.length > config.maxOutputTokens) {
      answer = all.slice(0, config.maxOutputTokens).join('');
      finishReason = 'MAX_TOKENS';
    }
  }

  const promptTokenCount = simTokens(JSON.stringify([body.systemInstruction ?? null, body.contents, body.tools ?? null]));
  const candidatesTokenCount = call ? simTokens(JSON.stringify(call.functionCall)) : simTokens(answer);
  const thoughtsTokenCount = thought ? simTokens(thought) : 0;
  const usageMetadata = {
    promptTokenCount,
    candidatesTokenCount,
    totalTokenCount: promptTokenCount + candidatesTokenCount + thoughtsTokenCount,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }],
    ...(thought ? { thoughtsTokenCount } : {}),
  };
  const candidateCount = typeof config.candidateCount === 'number' ? config.candidateCount : 1;
  const responseId = `sim${req.rawBody.length}x${model.replace(/[^A-Za-z0-9]/g, '')}`;
  const envelope = (candidates: unknown[], last: boolean) => ({
    candidates,
    ...(last ? { usageMetadata } : {}),
    modelVersion: `${model}-sim-001`,
    responseId,
  });
  const candidate = (parts: Part[], index: number, finish?: string) => ({
    content: { parts, role: 'model' },
    ...(finish ? { finishReason: finish } : {}),
    index,
  });
  const indexes = Array.from({ length: candidateCount }, (_, i) => i);

  if (method === 'generateContent') {
    const parts: Part[] = [...(thought ? [{ text: thought, thought: true }] : []), ...(call ? [call] : [{ text: answer }])];
    return { kind: 'json', body: envelope(indexes.map((i) => candidate(parts, i, finishReason)), true) };
  }

  // The stream: thought first, then the answer over several events, finishReason and usage on the last.
  const events: unknown[] = [];
  if (thought) events.push(envelope(indexes.map((i) => candidate([{ text: thought, thought: true }], i)), false));
  if (call) {
    events.push(envelope(indexes.map((i) => candidate([call], i)), false));
    events.push(envelope(indexes.map((i) => candidate([{ text: '' }], i, finishReason)), true));
  } else {
    const all = words(answer);
    const third = Math.max(1, Math.ceil(all.length / 3));
    const pieces: string[] = [];
    for (let i = 0; i < all.length; i += third) pieces.push(all.slice(i, i + third).join(''));
    if (pieces.length === 0) pieces.push('');
    pieces.forEach((piece, n) => {
      const last = n === pieces.length - 1;
      events.push(envelope(indexes.map((i) => candidate([{ text: piece }], i, last ? finishReason : undefined)), last));
    });
  }
  if (!query?.includes('alt=sse')) return { kind: 'json', body: events };
  const frames: SseFrame[] = events.map((e) => ({ data: JSON.stringify(e) }));
  return { kind: 'sse', frames };
}
