// Placeholder until the conversations API lands: no routes yet.

import type { RouteModule } from '../server/app.js';

export const conversationRoutes: RouteModule = () => {};
