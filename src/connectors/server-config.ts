/** Settings shared by connectors to a database server: a URL, or host/port/database/user/password. */
import { Type } from '@sinclair/typebox';

export function serverConfigSchema(scheme: string, defaultPort: number) {
  return Type.Object(
    {
      url: Type.Optional(Type.String({ description: `${scheme}://user:password@host:port/database` })),
      host: Type.Optional(Type.String({ default: '127.0.0.1' })),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: defaultPort })),
      database: Type.Optional(Type.String()),
      user: Type.Optional(Type.String()),
      password: Type.Optional(Type.String({ writeOnly: true })),
      ssl: Type.Optional(Type.Boolean({ description: 'Use TLS (certificate verified)' })),
      poolSize: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    },
    { additionalProperties: false },
  );
}
