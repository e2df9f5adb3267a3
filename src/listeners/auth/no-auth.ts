import { Type } from '@sinclair/typebox';
import { defineListenerAuth } from './listener-auth-type.js';

/**
 * `none`: anyone may call; the server logs a warning for every listener that says so, and only an admin
 * may define one.
 */
export const noAuth = defineListenerAuth({
  name: 'none',
  description: 'anyone (only an admin may define such a listener)',
  anonymous: true,
  optionsSchema: Type.Object({}, { additionalProperties: false }),
  create: () => ({ authenticate: async () => undefined }),
});
