// Default gemini replies. Placeholder until the gemini adapter lands: answers 501 so a test notices.

import type { RecordedRequest, Reply } from './server.js';

export function geminiReply(_req: RecordedRequest): Reply {
  return { kind: 'json', status: 501, body: { error: { message: 'not simulated yet', type: 'server_error' } } };
}
