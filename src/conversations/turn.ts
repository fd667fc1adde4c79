// One turn of a conversation, before and after the model answers it: which conversation, its
// references, the history that fits the model, the claim on the turn's place; then storing the answer.
// The model call itself is the /v1 pipeline's (completeChat / streamChat): same checks, reservation,
// routing, translation, and exactly one usage record per turn.

import { randomUUID } from 'node:crypto';
import type { ChatRequest, Usage } from '../providers/types.js';
import type { CallerKey, Gateway } from '../gateway/gateway.js';
import { invalidRequest } from '../gateway/errors.js';
import { resolveModel } from '../gateway/prepare.js';
import type { ConversationRequest } from './request-schema.js';
import { questionContent, resolveReferences } from './references.js';
import { buildHistory, turnTokens } from './history.js';
import { conversationBusy, conversationNotFound } from './errors.js';
import {
  claimTurn,
  completeTurn,
  createConversation,
  dropExpiredClaims,
  findConversation,
  loadTurns,
  releaseTurn,
  type Conversation,
  type TurnRecord,
} from './store.js';

/** A claim outlives the pipeline's total timeout by this much before another turn may take its place. */
const CLAIM_SLACK_MS = 60_000;

export interface PreparedTurn {
  /** The conversation id the client gets back (a fresh one when none was given). */
  id: string;
  /** The chat request for the pipeline; the caller sets the stream fields. */
  request: ChatRequest;
  droppedTurns: number;
  /** Stores the answer (a stateful turn); an incomplete turn with no text is not kept. */
  finish(answer: string, usage: Usage | null, incomplete: boolean): Promise<void>;
  /** The model call failed before any answer: gives the turn's place back. */
  abandon(): Promise<void>;
}

const nothing = async () => {};

/** The question already stores a data: URI in full; the list of references shown back needs only its start. */
function shownReference(ref: string): string {
  return ref.startsWith('data:') && ref.length > 80 ? `${ref.slice(0, ref.indexOf(',') + 1)}… (${ref.length} characters)` : ref;
}

export async function prepareTurn(gw: Gateway, key: CallerKey, body: ConversationRequest, requestId: string): Promise<PreparedTurn> {
  // Unknown model (404), a model this key may not use (403), an unconfigured provider (503): said
  // before any reference is fetched. The pipeline checks the full request again.
  const model = resolveModel(gw, key, { model: body.model, messages: [] });
  let conversation: Conversation | undefined;
  if (body.id) {
    conversation = await findConversation(gw.store, key.id, body.id);
    if (!conversation) throw conversationNotFound(body.id);
  }
  const refs = await resolveReferences(body.references, gw.config.allowPrivateUrls);
  if (refs.images.length && !model.entry.capabilities.vision) {
    throw invalidRequest(
      `The model \`${body.model}\` does not support image input; remove the image references or choose a model with vision.`,
      'references',
      'image_not_supported',
    );
  }
  const question = questionContent(body.question, refs);
  const preset = body.preset !== undefined ? body.preset : (conversation?.preset ?? null);

  let turns = conversation ? await loadTurns(gw.store, conversation.id) : [];
  if (conversation && body.stateful && turns.some((t) => t.pendingUntil !== null)) {
    await dropExpiredClaims(gw.store, conversation.id, Date.now());
    turns = await loadTurns(gw.store, conversation.id);
    if (turns.some((t) => t.pendingUntil !== null)) throw conversationBusy(conversation.id);
  }
  const answered = turns.filter((t) => t.pendingUntil === null);
  const history = buildHistory({
    model: model.entry,
    preset,
    turns: answered.map((t) => ({ question: t.question, answer: t.answer, tokens: t.tokens || turnTokens(t.question, t.answer) })),
    question,
    maxTokens: body.max_tokens,
  });
  const request: ChatRequest = { model: body.model, messages: history.messages };
  if (body.temperature !== undefined) request.temperature = body.temperature;
  if (body.max_tokens !== undefined) request.max_tokens = body.max_tokens;

  const record = (answer: string, usage: Usage | null, incomplete: boolean): TurnRecord => ({
    model: body.model,
    question,
    questionText: body.question,
    references: body.references.map(shownReference),
    answer,
    usage,
    incomplete,
    tokens: turnTokens(question, answer),
    requestId,
  });
  const id = conversation?.id ?? randomUUID();
  const base = { id, request, droppedTurns: history.droppedTurns };
  if (!body.stateful) return { ...base, finish: nothing, abandon: nothing };

  if (!conversation) {
    // Nobody else knows this id yet: the conversation and its first turn are written together at the end.
    return {
      ...base,
      finish: async (answer, usage, incomplete) => {
        if (incomplete && !answer) return;
        await createConversation(gw.store, { id, keyId: key.id, model: body.model, preset: body.preset || null }, record(answer, usage, incomplete));
      },
      abandon: nothing,
    };
  }

  const seq = Math.max(0, ...turns.map((t) => t.seq)) + 1;
  const claimed = await claimTurn(gw.store, id, seq, record('', null, true), Date.now() + gw.config.timeouts.totalMs + CLAIM_SLACK_MS);
  if (!claimed) throw conversationBusy(id);
  const abandon = () => releaseTurn(gw.store, id, seq);
  return {
    ...base,
    finish: async (answer, usage, incomplete) => {
      if (incomplete && !answer) return abandon();
      await completeTurn(gw.store, id, seq, record(answer, usage, incomplete), { model: body.model, preset: body.preset });
    },
    abandon,
  };
}
