// Placeholder until the gemini adapter lands: every call fails with 501 so nothing pretends to work.

import { ProviderError, type ProviderAdapter } from '../types.js';

const notYet = () => {
  throw new ProviderError(501, { message: 'This dialect is not implemented yet.', type: 'server_error', param: null, code: 'not_implemented' }, false);
};

export const geminiAdapter: ProviderAdapter = {
  name: 'gemini',
  imageUrls: 'pass',
  supportsStreaming: () => true,
  buildRequest: notYet,
  parseResponse: notYet,
  createStreamTranslator: notYet,
  mapError: notYet,
};
