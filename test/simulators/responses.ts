// Default responses replies. Placeholder until the responses adapter lands: answers 501 so a test notices.

import type { RecordedRequest, Reply } from './server.js';

export function responsesReply(_req: RecordedRequest): Reply {
  return { kind: 'json', status: 501, body: { error: { message: 'not simulated yet', type: 'server_error' } } };
}
