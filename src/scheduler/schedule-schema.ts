import { type Static, Type } from '@sinclair/typebox';

/**
 * A schedule: when a flow runs by itself. One schema for the REST API, the YAML files and the docs.
 */
export const ScheduleSpec = Type.Object(
  {
    flow: Type.String({ minLength: 1, description: 'The flow to run' }),
    cron: Type.String({
      minLength: 1,
      description:
        'Cron expression: five fields (minute hour day month weekday) or six with seconds first; ' +
        'names (MON, JAN), ranges, lists and steps allowed',
    }),
    timezone: Type.Optional(
      Type.String({
        default: 'UTC',
        description: 'IANA time zone the expression is read in, e.g. Europe/Berlin',
      }),
    ),
    parameters: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'Values for the flow’s parameters',
      }),
    ),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    overlap: Type.Optional(
      Type.Union([Type.Literal('skip'), Type.Literal('queue'), Type.Literal('allow')], {
        default: 'skip',
        description:
          'When a tick comes while an earlier run of this schedule is queued or running: skip the tick, ' +
          'queue a run that starts after the earlier one, or allow runs side by side',
      }),
    ),
    missed: Type.Optional(
      Type.Union([Type.Literal('run-once'), Type.Literal('skip')], {
        default: 'skip',
        description: 'Ticks missed while no scheduler was up: run the flow once at start-up, or skip them',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, title: 'Schedule' },
);
export type ScheduleSpec = Static<typeof ScheduleSpec>;
