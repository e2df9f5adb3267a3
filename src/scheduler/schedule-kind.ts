import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import { compileCron, nextTimes } from './cron.js';
import { ScheduleSpec } from './schedule-schema.js';

/** Fields the API adds to a schedule when it is read; ignored when one is written back. */
const READ_ONLY = ['nextRun'];

/** Schedules: validated whole on save, the cron expression compiled in its time zone. */
export const scheduleKind: DefinitionKind<ScheduleSpec> = {
  kind: 'schedule',
  plural: 'schedules',
  title: 'Schedule',
  schema: ScheduleSpec,
  order: 40,
  validate(input) {
    const raw =
      typeof input === 'object' && input !== null
        ? Object.fromEntries(Object.entries(input).filter(([k]) => !READ_ONLY.includes(k)))
        : input;
    const spec = validate(ScheduleSpec, raw, 'schedule');
    compileCron(spec.cron, spec.timezone ?? 'UTC');
    return spec;
  },
  references: (spec) => [{ kind: 'flow', name: spec.flow, path: '/flow' }],
  present(spec) {
    if (spec.enabled === false) return { nextRun: null };
    const [next] = nextTimes(compileCron(spec.cron, spec.timezone ?? 'UTC'), new Date(), 1);
    return { nextRun: next?.toISOString() ?? null };
  },
};
