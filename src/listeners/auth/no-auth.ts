import { Type } from '@sinclair/typebox';
import { defineListenerAuth } from './listener-auth-type.js';

/** `none`: anyone may call; the server logs a warning for every listener that says so. */
export const noAuth = defineListenerAuth({
  name: 'none',
  description: 'anyone',
  optionsSchema: Type.Object({}, { additionalProperties: false }),
  create: () => ({ authenticate: async () => undefined }),
});
