import { type TSchema, Type } from '@sinclair/typebox';

/** Shared response pieces for the OpenAPI document. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code, e.g. VALIDATION_FAILED' }),
      message: Type.String(),
      requestId: Type.Optional(Type.String()),
      details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: 'Error', description: 'The error shape of every endpoint' },
);

export const errorResponses = (...codes: number[]): Record<number, TSchema> =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref('Error')]));

/** Responses every authenticated route can give. */
export const authErrors = errorResponses(400, 401, 403, 500);

export const NameParam = Type.String({ minLength: 1, maxLength: 200 });
