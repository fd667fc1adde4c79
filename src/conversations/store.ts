// Conversations and their turns in the database (tables from migrations 0002 and 0003).
// Concurrency: a turn on an existing conversation first claims its seq (max + 1) by inserting a pending
// row; the unique (conversation_id, seq) constraint lets only one of two concurrent turns win, on one
// instance or many sharing PostgreSQL, and a live pending row makes a later one wait its turn (409).

import type { Kysely, Selectable } from 'kysely';
import type { Store } from '../store/database.js';
import type { ConversationTurnsTable, Database } from '../store/schema.js';
import type { Usage, UserMessage } from '../providers/types.js';

/** Columns added by migration 0003, typed here so that src/store/schema.ts stays as it is. */
interface TurnsTable extends ConversationTurnsTable {
  question_text: string | null;
  refs: string | null;
  tokens: number | null;
  request_id: string | null;
  /** Set while the turn runs: the time after which its claim counts as abandoned. */
  pending_until: number | null;
}

type ConversationDatabase = Omit<Database, 'conversation_turns'> & { conversation_turns: TurnsTable };

const dbOf = (store: Store) => store.db as unknown as Kysely<ConversationDatabase>;

export interface Conversation {
  id: string;
  keyId: string;
  model: string;
  preset: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ConversationSummary extends Conversation {
  turns: number;
}

/** What a turn stores: the question as sent upstream and as typed, and the answer. */
export interface TurnRecord {
  model: string;
  question: UserMessage['content'];
  questionText: string;
  references: string[];
  answer: string;
  usage: Usage | null;
  incomplete: boolean;
  tokens: number;
  requestId: string;
}

export interface Turn extends TurnRecord {
  seq: number;
  createdAt: number;
  /** Set while another request is answering this turn. */
  pendingUntil: number | null;
}

type TurnRow = Selectable<TurnsTable>;
type ConversationRow = Database['conversations'];

function toConversation(r: ConversationRow): Conversation {
  return { id: r.id, keyId: r.key_id, model: r.model, preset: r.preset, createdAt: r.created_at, updatedAt: r.updated_at };
}

function toTurn(r: TurnRow): Turn {
  return {
    seq: r.seq,
    model: r.model,
    question: JSON.parse(r.question),
    questionText: r.question_text ?? '',
    references: r.refs ? JSON.parse(r.refs) : [],
    answer: r.answer,
    usage: r.usage ? JSON.parse(r.usage) : null,
    incomplete: r.incomplete === 1,
    tokens: r.tokens ?? 0,
    requestId: r.request_id ?? '',
    createdAt: r.created_at,
    pendingUntil: r.pending_until,
  };
}

function turnColumns(conversationId: string, seq: number, t: TurnRecord, now: number) {
  return {
    conversation_id: conversationId,
    seq,
    model: t.model,
    question: JSON.stringify(t.question),
    question_text: t.questionText,
    refs: t.references.length ? JSON.stringify(t.references) : null,
    answer: t.answer,
    usage: t.usage ? JSON.stringify(t.usage) : null,
    incomplete: t.incomplete ? 1 : 0,
    tokens: t.tokens,
    request_id: t.requestId,
    created_at: now,
  };
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code === '23505' || code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY');
}

/** The conversation if it exists and belongs to this key: another key's conversation is as good as absent. */
export async function findConversation(store: Store, keyId: string, id: string): Promise<Conversation | undefined> {
  const row = await dbOf(store).selectFrom('conversations').selectAll().where('id', '=', id).where('key_id', '=', keyId).executeTakeFirst();
  return row ? toConversation(row) : undefined;
}

/** Every turn, oldest first, including running ones (pendingUntil set). */
export async function loadTurns(store: Store, conversationId: string): Promise<Turn[]> {
  const rows = await dbOf(store).selectFrom('conversation_turns').selectAll().where('conversation_id', '=', conversationId).orderBy('seq').execute();
  return rows.map(toTurn);
}

/** Removes claims whose lease ran out (their instance died mid-turn), so they block nothing. */
export async function dropExpiredClaims(store: Store, conversationId: string, now: number): Promise<void> {
  await dbOf(store)
    .deleteFrom('conversation_turns')
    .where('conversation_id', '=', conversationId)
    .where('pending_until', 'is not', null)
    .where('pending_until', '<', now)
    .execute();
}

/** Claims `seq` for a running turn. false: another turn took it first. */
export async function claimTurn(store: Store, conversationId: string, seq: number, turn: TurnRecord, pendingUntil: number): Promise<boolean> {
  try {
    await dbOf(store)
      .insertInto('conversation_turns')
      .values({ ...turnColumns(conversationId, seq, turn, Date.now()), pending_until: pendingUntil })
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/** Fills a claimed turn with its answer and moves the conversation to this turn's model (and preset, if given). */
export async function completeTurn(
  store: Store,
  conversationId: string,
  seq: number,
  turn: TurnRecord,
  conversation: { model: string; preset?: string },
): Promise<void> {
  const now = Date.now();
  await dbOf(store).transaction().execute(async (tx) => {
    await tx
      .updateTable('conversation_turns')
      .set({
        answer: turn.answer,
        usage: turn.usage ? JSON.stringify(turn.usage) : null,
        incomplete: turn.incomplete ? 1 : 0,
        tokens: turn.tokens,
        request_id: turn.requestId,
        pending_until: null,
      })
      .where('conversation_id', '=', conversationId)
      .where('seq', '=', seq)
      .execute();
    await tx
      .updateTable('conversations')
      .set({ model: conversation.model, updated_at: now, ...(conversation.preset === undefined ? {} : { preset: conversation.preset || null }) })
      .where('id', '=', conversationId)
      .execute();
  });
}

/** Gives a claimed seq back: the turn produced nothing worth keeping. */
export async function releaseTurn(store: Store, conversationId: string, seq: number): Promise<void> {
  await dbOf(store).deleteFrom('conversation_turns').where('conversation_id', '=', conversationId).where('seq', '=', seq).where('pending_until', 'is not', null).execute();
}

/** A new conversation with its first turn, written together once that turn has an answer. */
export async function createConversation(
  store: Store,
  conversation: { id: string; keyId: string; model: string; preset: string | null },
  turn: TurnRecord,
): Promise<void> {
  const now = Date.now();
  await dbOf(store).transaction().execute(async (tx) => {
    await tx
      .insertInto('conversations')
      .values({ id: conversation.id, key_id: conversation.keyId, model: conversation.model, preset: conversation.preset, created_at: now, updated_at: now })
      .execute();
    await tx.insertInto('conversation_turns').values({ ...turnColumns(conversation.id, 1, turn, now), pending_until: null }).execute();
  });
}

/** A key's conversations, most recently used first; `after` is the last id of the previous page. */
export async function listConversations(
  store: Store,
  keyId: string,
  page: { limit: number; after?: Conversation },
): Promise<{ data: ConversationSummary[]; hasMore: boolean }> {
  let query = dbOf(store)
    .selectFrom('conversations')
    .selectAll('conversations')
    .select((eb) =>
      eb
        .selectFrom('conversation_turns')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('conversation_turns.conversation_id', '=', 'conversations.id')
        .where('conversation_turns.pending_until', 'is', null)
        .as('turns'),
    )
    .where('key_id', '=', keyId);
  const after = page.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('updated_at', '<', after.updatedAt), eb.and([eb('updated_at', '=', after.updatedAt), eb('id', '<', after.id)])]),
    );
  }
  const rows = await query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
  return {
    data: rows.slice(0, page.limit).map((r) => ({ ...toConversation(r), turns: Number(r.turns ?? 0) })),
    hasMore: rows.length > page.limit,
  };
}

/** Deletes a key's conversation and its turns. false: no such conversation for this key. */
export async function deleteConversation(store: Store, keyId: string, id: string): Promise<boolean> {
  return dbOf(store).transaction().execute(async (tx) => {
    const deleted = await tx.deleteFrom('conversations').where('id', '=', id).where('key_id', '=', keyId).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return false;
    await tx.deleteFrom('conversation_turns').where('conversation_id', '=', id).execute();
    return true;
  });
}
