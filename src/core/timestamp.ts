/**
 * Timestamps to the microsecond. A JavaScript Date holds milliseconds, PostgreSQL and MySQL hold
 * microseconds: a value read with sub-millisecond digits becomes a Timestamp, a Date that carries the
 * microseconds past its millisecond and prints all six fraction digits (toISOString, and so JSON and
 * every writer that prints a Date). Everything that takes a Date takes one. A value without them stays
 * a plain Date, which is the same instant printed with three digits.
 */
export class Timestamp extends Date {
  /** Microseconds past the millisecond, 0–999. */
  readonly micros: number;

  constructor(epochMs: number, micros: number) {
    super(epochMs);
    this.micros = micros;
  }

  override toISOString(): string {
    const ms = super.toISOString();
    return `${ms.slice(0, -1)}${String(this.micros).padStart(3, '0')}Z`;
  }

  override toJSON(): string {
    return this.toISOString();
  }
}

/** The microseconds past the millisecond of any Date (0 for a plain one). */
export function microsOf(d: Date): number {
  return d instanceof Timestamp ? d.micros : 0;
}

/** A Date for an instant given to the microsecond: a Timestamp when the microseconds are not 0. */
export function instantOf(epochMs: number, micros: number): Date {
  return micros === 0 ? new Date(epochMs) : new Timestamp(epochMs, micros);
}

/** Orders two instants to the microsecond. */
export function compareInstants(a: Date, b: Date): number {
  return a.getTime() - b.getTime() || microsOf(a) - microsOf(b);
}

const TIMESTAMP =
  /^(\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?( BC)?$/;

/**
 * Timestamp text as databases and ISO 8601 write it (`2024-03-31 01:30:00.123456+02`,
 * `2024-03-31T01:30:00Z`, `1969-12-31`, PostgreSQL's `… BC`), to the microsecond; text without an
 * offset is taken as UTC. Undefined when it is no valid timestamp, or holds digits beyond the
 * microsecond that are not zero (they would be lost).
 */
export function parseTimestamp(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone, bc] = m;
  const fraction = frac.padEnd(6, '0');
  if (/[1-9]/.test(fraction.slice(6))) return undefined;
  const year = bc ? 1 - Number(y) : Number(y);
  const month = Number(mo);
  const day = Number(d);
  const [hours, minutes, seconds] = [Number(h), Number(mi), Number(s)];
  if (month < 1 || month > 12 || day < 1 || hours > 24 || minutes > 59 || seconds > 60) return undefined;
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  if (at.getUTCDate() !== day) return undefined;
  at.setUTCHours(hours, minutes, seconds, Number(fraction.slice(0, 3)));
  let ms = at.getTime() - offsetMinutes(zone) * 60_000 - offsetSeconds(zone) * 1000;
  if (!Number.isFinite(ms)) return undefined;
  ms = Math.round(ms);
  return instantOf(ms, Number(fraction.slice(3, 6)));
}

function offsetMinutes(zone: string | undefined): number {
  if (!zone || zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replaceAll(':', '');
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

function offsetSeconds(zone: string | undefined): number {
  if (!zone || zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replaceAll(':', '');
  return (zone[0] === '-' ? -1 : 1) * Number(digits.slice(4, 6) || '0');
}
