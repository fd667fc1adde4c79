// The conversations API (DESIGN.md section 5): POST /aichat/conversations asks one question of a
// conversation whose history the gateway keeps; GET lists a key's conversations or reads one back;
// DELETE forgets one. A conversation is visible only to the key that made it.

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Gateway } from '../gateway/gateway.js';
import { completeChat, streamChat, type ChatCall } from '../gateway/chat.js';
import { GatewayError, invalidRequest } from '../gateway/errors.js';
import type { RouteModule } from '../server/app.js';
import { clientGone } from '../server/routes/chat.js';
import type { FinishReason, Usage } from '../providers/types.js';
import { answerFormatOf, parseConversationRequest, parseListQuery, type AnswerFormat } from './request-schema.js';
import { prepareTurn, type PreparedTurn } from './turn.js';
import { answerStreamWriter } from './stream-writers.js';
import { conversationNotFound } from './errors.js';
import { deleteConversation, findConversation, listConversations, loadTurns, type Conversation } from './store.js';
import { newRequestId } from '../store/ids.js';

const seconds = (ms: number) => Math.floor(ms / 1000);

function conversationJson(c: Conversation) {
  return { id: c.id, object: 'conversation', model: c.model, preset: c.preset, created_at: seconds(c.createdAt), updated_at: seconds(c.updatedAt) };
}

async function answerWhole(gw: Gateway, call: ChatCall, turn: PreparedTurn) {
  let completion;
  try {
    completion = await completeChat(gw, call);
  } catch (err) {
    await turn.abandon();
    throw err;
  }
  const choice = completion.choices[0];
  const answer = choice?.message.content ?? choice?.message.refusal ?? '';
  const usage = completion.usage ?? null;
  // Stored before answering, so the client's next question finds this turn in the history.
  await turn.finish(answer, usage, false);
  return { id: turn.id, model: call.request.model, answer, usage, finish_reason: choice?.finish_reason ?? null, dropped_turns: turn.droppedTurns };
}

async function answerStreamed(gw: Gateway, call: ChatCall, turn: PreparedTurn, format: Exclude<AnswerFormat, 'json'>, reply: FastifyReply) {
  const writer = answerStreamWriter(format, reply.raw);
  const start = () => {
    if (writer.started) return;
    reply.hijack();
    writer.start({ 'x-request-id': call.requestId });
  };
  let answer = '';
  let usage: Usage | null = null;
  let finishReason: FinishReason | null = null;
  try {
    for await (const batch of streamChat(gw, call)) {
      start();
      for (const chunk of batch) {
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const piece = choice?.delta.content;
        if (!piece) continue;
        answer += piece;
        writer.send({ id: turn.id, answer, delta_answer: piece });
      }
    }
  } catch (err) {
    // Cut short (client gone, upstream failure after the first byte): keep what was answered, marked
    // incomplete; the pipeline has already billed it once.
    if (answer) await turn.finish(answer, null, true);
    else await turn.abandon();
    if (!writer.started) throw err;
    writer.send({ id: turn.id, answer, error: GatewayError.from(err).error });
    writer.end();
    return;
  }
  await turn.finish(answer, usage, false);
  start();
  writer.send({ id: turn.id, answer, done: true, model: call.request.model, usage, finish_reason: finishReason, dropped_turns: turn.droppedTurns });
  writer.end();
}

export const conversationRoutes: RouteModule = (app: FastifyInstance, gw: Gateway, auth) => {
  app.post('/aichat/conversations', async (request, reply) => {
    const key = await auth(request);
    const body = parseConversationRequest(request.body);
    const format = answerFormatOf(request.headers.accept);
    const requestId = newRequestId();
    request.logFields = { requestId, keyId: key.id, model: body.model };
    reply.header('x-request-id', requestId);
    const turn = await prepareTurn(gw, key, body, requestId);
    const aborted = clientGone(reply.raw);
    const stream = format !== 'json';
    const call: ChatCall = {
      requestId,
      key,
      request: stream ? { ...turn.request, stream: true, stream_options: { include_usage: true } } : turn.request,
      abort: aborted,
    };
    if (format === 'json') return reply.send(await answerWhole(gw, call, turn));
    await answerStreamed(gw, call, turn, format, reply);
    return reply;
  });

  app.get('/aichat/conversations', async (request) => {
    const key = await auth(request);
    const query = parseListQuery(request.query);
    let after: Conversation | undefined;
    if (query.after) {
      after = await findConversation(gw.store, key.id, query.after);
      if (!after) throw invalidRequest(`No conversation '${query.after}' to page after.`, 'after', 'invalid_value');
    }
    const page = await listConversations(gw.store, key.id, { limit: query.limit, after });
    return {
      object: 'list',
      data: page.data.map((c) => ({ ...conversationJson(c), turns: c.turns })),
      has_more: page.hasMore,
      last_id: page.data.at(-1)?.id ?? null,
    };
  });

  app.get<{ Params: { id: string } }>('/aichat/conversations/:id', async (request) => {
    const key = await auth(request);
    const conversation = await findConversation(gw.store, key.id, request.params.id);
    if (!conversation) throw conversationNotFound(request.params.id);
    const turns = (await loadTurns(gw.store, conversation.id)).filter((t) => t.pendingUntil === null);
    return {
      ...conversationJson(conversation),
      turns: turns.map((t) => ({
        seq: t.seq,
        model: t.model,
        question: t.questionText,
        references: t.references,
        answer: t.answer,
        usage: t.usage,
        incomplete: t.incomplete,
        request_id: t.requestId || null,
        created_at: seconds(t.createdAt),
      })),
    };
  });

  app.delete<{ Params: { id: string } }>('/aichat/conversations/:id', async (request) => {
    const key = await auth(request);
    if (!(await deleteConversation(gw.store, key.id, request.params.id))) throw conversationNotFound(request.params.id);
    return { id: request.params.id, object: 'conversation.deleted', deleted: true };
  });
};
