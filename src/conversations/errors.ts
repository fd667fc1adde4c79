// Errors only the conversations API answers, in the OpenAI envelope like every other error.

import { GatewayError } from '../gateway/errors.js';

/** Also what another key's conversation looks like: its existence is not revealed. */
export const conversationNotFound = (id: string) =>
  new GatewayError(404, {
    message: `No conversation found with id '${id}'.`,
    type: 'invalid_request_error',
    param: 'id',
    code: 'conversation_not_found',
  });

export const conversationBusy = (id: string) =>
  new GatewayError(
    409,
    {
      message: `Another turn of conversation '${id}' is still being answered. Send the next question once it has finished.`,
      type: 'invalid_request_error',
      param: 'id',
      code: 'conversation_busy',
    },
    { 'retry-after': '1' },
  );
