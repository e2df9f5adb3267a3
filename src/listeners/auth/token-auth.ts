import { Type } from '@sinclair/typebox';
import { bearer, credentialOf } from './credentials.js';
import { defineListenerAuth } from './listener-auth-type.js';

/** `token`: a bearer token from a login, or an API key. */
export const tokenAuth = defineListenerAuth({
  name: 'token',
  description: 'bearer token or API key',
  optionsSchema: Type.Object({}, { additionalProperties: false }),
  create: ({ auth }) => ({
    authenticate: async (request) => auth.authenticate(bearer(credentialOf(request))),
  }),
});
