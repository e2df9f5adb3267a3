/**
 * An exact decimal number of any precision, kept as its canonical digits: an optional '-', the integer
 * digits without leading zeros (at least one), and, when the value has a scale, '.' and its fraction
 * digits. Trailing fraction zeros are kept, because they are the scale a database reported
 * (`numeric(10,2)` gives 1.50); equality and order compare values, so 1.5 equals 1.50.
 *
 * Readers produce a Decimal for every value a JS number would round (PostgreSQL numeric, MySQL DECIMAL,
 * JSON number tokens a double cannot hold); writers print its digits. Arithmetic (+, -, *, %) is exact;
 * division rounds half away from zero to DIVISION_SCALE fraction digits beyond the operands' scale.
 */

const PLAIN = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const NUMBER = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;
const NEGATIVE_ZERO = /^-0(?:\.0*)?$/;
/** Longest exponent a number text may state: the digits it stands for are kept in memory. */
const MAX_EXPONENT = 10_000;
/** Extra fraction digits a division keeps beyond the larger scale of its operands. */
export const DIVISION_SCALE = 20;

export class Decimal {
  /** The canonical digits (see the file comment). */
  readonly digits: string;

  /**
   * `digits` must be canonical already (PostgreSQL prints numeric so): it is not checked, since this
   * sits on the read path of every numeric value. Anything else goes through parse().
   */
  constructor(digits: string) {
    this.digits = digits;
  }

  /** A decimal from number text ('+1.50', '1e-7', '.5'), or undefined when it is not a finite number. */
  static parse(text: string): Decimal | undefined {
    if (PLAIN.test(text)) return new Decimal(NEGATIVE_ZERO.test(text) ? text.slice(1) : text);
    const m = NUMBER.exec(text);
    if (!m) return undefined;
    const [, sign, int = '', frac = '', exp] = m;
    if (int === '' && frac === '') return undefined;
    const e = exp === undefined ? 0 : Number(exp);
    if (!Number.isSafeInteger(e) || Math.abs(e) > MAX_EXPONENT) return undefined;
    return fromParts(sign === '-', BigInt(int + frac || '0'), frac.length - e);
  }

  /** Like parse, throwing a RangeError for text that is not a finite number. */
  static of(text: string): Decimal {
    const d = Decimal.parse(text);
    if (!d)
      throw new RangeError(`'${text.length > 40 ? `${text.slice(0, 40)}…` : text}' is not a decimal number`);
    return d;
  }

  /** An integer (bigint or safe number) or a finite double, as the decimal its shortest text shows. */
  static from(value: number | bigint): Decimal {
    if (typeof value === 'bigint') return new Decimal(value.toString());
    if (!Number.isFinite(value)) throw new RangeError(`${value} is not a decimal number`);
    return Decimal.of(String(value));
  }

  /** Fraction digits. */
  get scale(): number {
    const dot = this.digits.indexOf('.');
    return dot === -1 ? 0 : this.digits.length - dot - 1;
  }

  /** Significant digits of the integer part plus the fraction (as SQL's DECIMAL(p,s) counts them). */
  get precision(): number {
    const body = this.digits.replace('-', '').replace('.', '');
    const trimmed = body.replace(/^0+/, '');
    return Math.max(trimmed.length, this.scale, 1);
  }

  /** The digits as a scaled integer: value = unscaled / 10^scale. */
  unscaled(): bigint {
    return BigInt(this.digits.replace('.', ''));
  }

  isZero(): boolean {
    return /^-?0(?:\.0*)?$/.test(this.digits);
  }

  isInteger(): boolean {
    return /^-?\d+(?:\.0*)?$/.test(this.digits);
  }

  toString(): string {
    return this.digits;
  }

  /** What JSON.stringify gives outside the format writers: the digits as text, so none is lost. */
  toJSON(): string {
    return this.digits;
  }

  /** node-postgres binds an object with toPostgres as that text. */
  toPostgres(): string {
    return this.digits;
  }

  /** The nearest double: only for code that asked for a float. */
  toNumber(): number {
    return Number(this.digits);
  }

  compare(other: Decimal): number {
    const s = Math.max(this.scale, other.scale);
    const a = rescale(this, s);
    const b = rescale(other, s);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(other: Decimal): boolean {
    return this.compare(other) === 0;
  }

  add(other: Decimal): Decimal {
    const s = Math.max(this.scale, other.scale);
    return fromScaled(rescale(this, s) + rescale(other, s), s);
  }

  sub(other: Decimal): Decimal {
    const s = Math.max(this.scale, other.scale);
    return fromScaled(rescale(this, s) - rescale(other, s), s);
  }

  mul(other: Decimal): Decimal {
    return fromScaled(this.unscaled() * other.unscaled(), this.scale + other.scale);
  }

  /** Rounded half away from zero to DIVISION_SCALE digits beyond the larger scale; trailing zeros dropped. */
  div(other: Decimal): Decimal {
    if (other.isZero()) throw new RangeError('division by zero');
    const s = Math.max(this.scale, other.scale) + DIVISION_SCALE;
    // this / other = (a / 10^sa) / (b / 10^sb); scaled by 10^s: a * 10^(s + sb - sa) / b
    const num = this.unscaled() * 10n ** BigInt(s + other.scale - this.scale);
    return fromScaled(roundDiv(num, other.unscaled()), s).trimmed();
  }

  /** The remainder with the sign of the dividend, as SQL's % (exact). */
  mod(other: Decimal): Decimal {
    if (other.isZero()) throw new RangeError('division by zero');
    const s = Math.max(this.scale, other.scale);
    return fromScaled(rescale(this, s) % rescale(other, s), s);
  }

  neg(): Decimal {
    if (this.isZero()) return this;
    return new Decimal(this.digits.startsWith('-') ? this.digits.slice(1) : `-${this.digits}`);
  }

  abs(): Decimal {
    return this.digits.startsWith('-') ? this.neg() : this;
  }

  /** Rounded half away from zero to `places` fraction digits (negative places round left of the point). */
  round(places: number): Decimal {
    if (places >= this.scale) return this;
    const drop = BigInt(this.scale - places);
    const q = roundDiv(this.unscaled(), 10n ** drop);
    return places >= 0 ? fromScaled(q, places) : fromScaled(q * 10n ** BigInt(-places), 0);
  }

  /** The same value without trailing fraction zeros. */
  trimmed(): Decimal {
    if (!this.digits.includes('.')) return this;
    return new Decimal(this.digits.replace(/\.?0+$/, ''));
  }
}

/**
 * The one rule for 64-bit integers read as text (PostgreSQL int8, MySQL BIGINT, JSON): a number when
 * it is a safe integer (|n| <= 2^53 - 1), a bigint otherwise, so no digit is lost and the common case
 * stays a plain number.
 */
export function integerFromText(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * The value number text stands for (a JSON number token, an expression's number literal). Integer tokens follow the integer rule (a number when
 * safe, a bigint beyond: a double beyond 2^53 may print as the token and still be another integer).
 * Other tokens are numbers when the double prints back as the same value ("1.10", "1e2"), else a
 * Decimal. A token whose exponent is beyond what a Decimal holds is a RangeError.
 */
export function numberOfText(token: string): number | bigint | Decimal {
  if (INTEGER_TOKEN.test(token)) return integerFromText(token);
  const n = Number(token);
  const shortest = String(n);
  if (shortest === token) return n;
  const exact = Decimal.parse(token);
  if (!exact) throw new RangeError(`the number ${token.slice(0, 40)} is out of range`);
  if (Number.isFinite(n) && Decimal.of(shortest).equals(exact)) return n;
  return exact;
}

const INTEGER_TOKEN = /^-?\d+$/;

export function isDecimal(value: unknown): value is Decimal {
  return value instanceof Decimal;
}

function rescale(d: Decimal, scale: number): bigint {
  return d.unscaled() * 10n ** BigInt(scale - d.scale);
}

/** Integer division rounding half away from zero. */
function roundDiv(n: bigint, d: bigint): bigint {
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  let q = an / ad;
  if ((an % ad) * 2n >= ad) q += 1n;
  return negative ? -q : q;
}

function fromParts(negative: boolean, unscaled: bigint, scale: number): Decimal {
  if (scale < 0) return fromScaled((negative ? -unscaled : unscaled) * 10n ** BigInt(-scale), 0);
  return fromScaled(negative ? -unscaled : unscaled, scale);
}

function fromScaled(unscaled: bigint, scale: number): Decimal {
  const negative = unscaled < 0n;
  let body = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    if (body.length <= scale) body = '0'.repeat(scale - body.length + 1) + body;
    body = `${body.slice(0, body.length - scale)}.${body.slice(body.length - scale)}`;
  }
  const zero = /^0(?:\.0*)?$/.test(body);
  return new Decimal(negative && !zero ? `-${body}` : body);
}
