import { Cron } from 'croner';
import { AppError } from '../core/errors.js';

/** Most ticks looked at when searching for the last missed one (a per-second schedule down a day). */
const MAX_SCAN = 200_000;

/** Compiles an expression in a time zone; a bad one is a VALIDATION_FAILED naming the field. */
export function compileCron(expression: string, timezone: string): Cron {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new AppError('VALIDATION_FAILED', `schedule: /timezone '${timezone}' is not a known time zone`, {
      details: [{ path: '/timezone', message: 'use an IANA name such as UTC or Europe/Berlin' }],
    });
  }
  try {
    return new Cron(expression, { timezone, paused: true });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AppError('VALIDATION_FAILED', `schedule: /cron '${expression}' is not valid: ${why}`, {
      details: [{ path: '/cron', message: why }],
    });
  }
}

/** The next `count` fire times strictly after `from`. */
export function nextTimes(cron: Cron, from: Date, count: number): Date[] {
  const out: Date[] = [];
  let t: Date | null = from;
  while (out.length < count && t) {
    t = cron.nextRun(t);
    if (t) out.push(t);
  }
  return out;
}

/** Fire times in (after, until], oldest first, at most `max`: the ticks that are due. */
export function dueTimes(cron: Cron, after: Date, until: Date, max: number): Date[] {
  const out: Date[] = [];
  let t = cron.nextRun(after);
  while (t && t.getTime() <= until.getTime() && out.length < max) {
    out.push(t);
    t = cron.nextRun(t);
  }
  return out;
}

/** The latest fire time in (after, until], or undefined: the one missed tick `run-once` makes up for. */
export function lastTimeBetween(cron: Cron, after: Date, until: Date): Date | undefined {
  let last: Date | undefined;
  let t = cron.nextRun(after);
  for (let i = 0; t && t.getTime() <= until.getTime() && i < MAX_SCAN; i++) {
    last = t;
    t = cron.nextRun(t);
  }
  return last;
}
