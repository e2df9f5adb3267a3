import { Type } from '@sinclair/typebox';
import { BasicCredentials, bearer, credentialOf, isBasic } from './credentials.js';
import { defineListenerAuth } from './listener-auth-type.js';

/** `basic`: HTTP Basic login and password; a bearer token or API key is accepted too. */
export const basicAuth = defineListenerAuth({
  name: 'basic',
  description: 'HTTP Basic login and password (a bearer token or API key also works)',
  optionsSchema: Type.Object({}, { additionalProperties: false }),
  create({ auth }) {
    const basic = new BasicCredentials(auth);
    return {
      async authenticate(request) {
        const credential = credentialOf(request);
        return isBasic(credential)
          ? basic.verify(credential, request.ip)
          : auth.authenticate(bearer(credential));
      },
    };
  },
});
