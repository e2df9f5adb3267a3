import { type Static, Type } from '@sinclair/typebox';
import { MessageTargetSchema } from '../connectors/brokers/message-target-schema.js';
import { ANSWER_BODIES } from '../connectors/http/http-answers.js';
import { HEADER_NAME } from '../connectors/http/http-config.js';
import { HttpSourceRequestSchema, HttpTargetRequestSchema } from '../connectors/http/http-request-schema.js';
import { StringEnum } from '../core/string-enum.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { TransformRegistry } from '../transforms/transform-registry.js';

export const ParameterType = Type.Union(
  [
    Type.Literal('string'),
    Type.Literal('integer'),
    Type.Literal('number'),
    Type.Literal('boolean'),
    Type.Literal('date'),
  ],
  { description: 'How the value is checked and converted before it is bound' },
);
export type ParameterType = Static<typeof ParameterType>;

export const ParameterDef = Type.Object(
  {
    type: ParameterType,
    default: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
    required: Type.Optional(
      Type.Boolean({ description: 'Fail the run when no value is given (default: true without a default)' }),
    ),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ParameterDef = Static<typeof ParameterDef>;

/**
 * Connection names that are not stored connections: the request body and the HTTP response of a
 * listener, and the message batch a subscription hands its flow.
 */
export const REQUEST_SOURCE = '@request';
export const RESPONSE_TARGET = '@response';
export const MESSAGE_SOURCE = '@message';

const Common = {
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  parameters: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), ParameterDef)),
  timeout: Type.Optional(Type.Integer({ minimum: 1, description: 'Seconds before the run is cancelled' })),
  retry: Type.Optional(
    Type.Object(
      {
        attempts: Type.Integer({
          minimum: 1,
          maximum: 20,
          description: 'Total attempts, including the first',
        }),
        delay: Type.Optional(
          Type.Integer({
            minimum: 0,
            default: 5,
            description: 'Seconds before the first retry; doubles each time',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  concurrency: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Queued runs of this flow that may run at once' }),
  ),
};

/**
 * The flow definition: one schema for the REST API, the YAML files, the docs and the engine's types.
 * `type` picks the kind: transfer (steps FROM → TO with transforms), sql (statements on a connection),
 * pipeline (other flows in order). Format names and transforms are the registries': a format or
 * transform added to them is accepted here, in the OpenAPI document and in the docs.
 */
export function flowSchema(extensions: { formats: FormatRegistry; transforms: TransformRegistry }) {
  const FormatRef = Type.Object(
    {
      type: extensions.formats.nameSchema(),
      options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    },
    { additionalProperties: false },
  );

  const StepSource = Type.Object(
    {
      connection: Type.String({
        minLength: 1,
        description: `A connection name, ${REQUEST_SOURCE} for a listener's body, or ${MESSAGE_SOURCE} for a subscription's message batch`,
      }),
      table: Type.Optional(
        Type.String({ minLength: 1, description: 'Table to read; may contain {parameters}' }),
      ),
      query: Type.Optional(
        Type.String({ minLength: 1, description: 'SQL query; {parameters} are bound values' }),
      ),
      file: Type.Optional(Type.String({ minLength: 1, description: 'File name or wildcard in the folder' })),
      request: Type.Optional(HttpSourceRequestSchema),
      format: Type.Optional(FormatRef),
    },
    { additionalProperties: false },
  );

  const Mode = Type.Union([Type.Literal('append'), Type.Literal('replace'), Type.Literal('upsert')], {
    default: 'append',
  });

  /** Where an HTTP destination's answers go, one row per request (see http-answers.ts). */
  const ResponsesTarget = Type.Object(
    {
      connection: Type.String({
        minLength: 1,
        description: `A connection name, or ${RESPONSE_TARGET} for a listener's response`,
      }),
      table: Type.Optional(Type.String({ minLength: 1 })),
      file: Type.Optional(Type.String({ minLength: 1 })),
      format: Type.Optional(FormatRef),
      mode: Type.Optional(Mode),
      keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
      create: Type.Optional(Type.Boolean({ default: true })),
      headers: Type.Optional(
        Type.Array(Type.String({ pattern: HEADER_NAME }), {
          description: 'Answer headers kept, each a text column named in lower case',
        }),
      ),
      body: Type.Optional(
        StringEnum(ANSWER_BODIES, {
          default: 'json',
          description: 'The answer body as a json column, a text column, or left out',
        }),
      ),
    },
    {
      additionalProperties: false,
      description:
        'An http destination: each answer as a row (record, records, status, headers, body) written here',
    },
  );

  const StepTarget = Type.Object(
    {
      connection: Type.String({
        minLength: 1,
        description: `A connection name, or ${RESPONSE_TARGET} for a listener's response`,
      }),
      table: Type.Optional(Type.String({ minLength: 1 })),
      file: Type.Optional(Type.String({ minLength: 1 })),
      request: Type.Optional(HttpTargetRequestSchema),
      responses: Type.Optional(ResponsesTarget),
      message: Type.Optional(MessageTargetSchema),
      format: Type.Optional(FormatRef),
      mode: Type.Optional(Mode),
      keys: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Key columns for upsert' }),
      ),
      create: Type.Optional(
        Type.Boolean({ default: true, description: 'Create the table when it is missing' }),
      ),
    },
    { additionalProperties: false },
  );

  const TransferStep = Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
      from: StepSource,
      transforms: Type.Optional(Type.Array(extensions.transforms.schema)),
      to: StepTarget,
    },
    { additionalProperties: false },
  );

  const TransferFlow = Type.Object(
    { type: Type.Literal('transfer'), steps: Type.Array(TransferStep, { minItems: 1 }), ...Common },
    { additionalProperties: false, title: 'Transfer flow' },
  );

  const SqlFlow = Type.Object(
    {
      type: Type.Literal('sql'),
      connection: Type.String({ minLength: 1 }),
      sql: Type.String({
        minLength: 1,
        description: 'One or more statements separated by ;, run in one transaction',
      }),
      ...Common,
    },
    { additionalProperties: false, title: 'SQL flow' },
  );

  const PipelineFlow = Type.Object(
    {
      type: Type.Literal('pipeline'),
      flows: Type.Array(
        Type.Object(
          {
            flow: Type.String({ minLength: 1 }),
            parameters: Type.Optional(
              Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
            ),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
      onError: Type.Optional(
        Type.Union([Type.Literal('stop'), Type.Literal('continue')], { default: 'stop' }),
      ),
      ...Common,
    },
    { additionalProperties: false, title: 'Pipeline flow' },
  );

  return Type.Union([TransferFlow, SqlFlow, PipelineFlow], {
    discriminator: { propertyName: 'type' },
  });
}

export type FlowSpec = Static<ReturnType<typeof flowSchema>>;
export type TransferFlowSpec = Extract<FlowSpec, { type: 'transfer' }>;
export type SqlFlowSpec = Extract<FlowSpec, { type: 'sql' }>;
export type PipelineFlowSpec = Extract<FlowSpec, { type: 'pipeline' }>;
export type TransferStep = TransferFlowSpec['steps'][number];
export type StepSource = TransferStep['from'];
export type StepTarget = TransferStep['to'];
export type ResponsesTarget = NonNullable<StepTarget['responses']>;
