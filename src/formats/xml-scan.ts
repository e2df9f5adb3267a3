import type { TextCursor } from './text-cursor.js';

/**
 * A streaming XML tag scanner for the documents integrations exchange: elements, attributes, text,
 * CDATA, the five predefined entities and numeric character references. Comments and processing
 * instructions are skipped; a DOCTYPE is handed to the caller (which refuses anything beyond a bare
 * root name), so no DTD, entity declaration or external resource is ever processed. It checks what
 * changes the records read (tag nesting, one root, attribute syntax, entities, text outside the root);
 * it is not a validating parser. It finds token ends with indexOf rather than stepping a state machine
 * per character, which is what keeps it quick on record-shaped data.
 */
export interface XmlEvents {
  /** `attrs` is flat (name, value, name, value…) or undefined when the element has none. */
  open(name: string, attrs: string[] | undefined): void;
  /** Text of the open element; `cdata` when it came from a CDATA section (so it is text even if empty). */
  text(text: string, cdata?: boolean): void;
  close(name: string): void;
  /** Returns why the DOCTYPE is refused, or undefined to accept it. */
  doctype(body: string): string | undefined;
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

const LT = 60;
const GT = 62;
const SLASH = 47;
const BANG = 33;
const QMARK = 63;
const EQ = 61;
const DQ = 34;
const SQ = 39;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** Characters that end a name. */
function endsName(c: number): boolean {
  return isSpace(c) || c === GT || c === SLASH || c === EQ || c === LT || c === DQ || c === SQ;
}

function badNameStart(c: number): boolean {
  // digits, '-', '.' and anything that ends a name cannot start one
  return (c >= 48 && c <= 57) || c === 45 || c === 46 || endsName(c) || c === 38 || c === 59;
}

/** XML 1.0 Char: tab, LF, CR and everything from space up, minus surrogates and U+FFFE/U+FFFF. */
function isXmlChar(code: number): boolean {
  if (code >= 0x20)
    return code <= 0xd7ff || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
  return code === 9 || code === 10 || code === 13;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Expands entity and character references in `s`, which starts at `at` in the window (for errors). With
 * `newlines`, line breaks typed into the text are normalized (CRLF and lone CR read as LF) but those
 * written as references are not: the spec normalizes the document's line ends before references are
 * expanded, so `&#13;` is a carriage return that survives.
 */
export function decodeEntities(s: string, at: number, newlines = false): string {
  let amp = s.indexOf('&');
  if (amp === -1) return newlines ? normalizeNewlines(s) : s;
  const literal = newlines ? normalizeNewlines : (t: string) => t;
  let out = '';
  let from = 0;
  while (amp !== -1) {
    const semi = s.indexOf(';', amp + 1);
    if (semi === -1) throw new XmlSyntaxError("'&' must start an entity such as &amp;", at + amp);
    const ref = s.slice(amp + 1, semi);
    let ch: string | undefined;
    if (ref.charCodeAt(0) === 35 /* # */) {
      const code =
        ref.charCodeAt(1) === 120 /* x */
          ? /^x[0-9a-fA-F]+$/.test(ref.slice(1))
            ? Number.parseInt(ref.slice(2), 16)
            : Number.NaN
          : /^#[0-9]+$/.test(ref)
            ? Number.parseInt(ref.slice(1), 10)
            : Number.NaN;
      if (!isXmlChar(code)) {
        throw new XmlSyntaxError(`invalid character reference &${ref};`, at + amp);
      }
      ch = String.fromCodePoint(code);
    } else ch = NAMED[ref];
    if (ch === undefined) {
      throw new XmlSyntaxError(
        `undefined entity &${ref}; (only the predefined entities are supported)`,
        at + amp,
      );
    }
    out += literal(s.slice(from, amp)) + ch;
    from = semi + 1;
    amp = s.indexOf('&', from);
  }
  return out + literal(s.slice(from));
}

/**
 * Whether `name` occurs in `buf` at `at`. A character loop rather than String.prototype.startsWith: it
 * runs for every tag of every record, and for names this short the loop is much the cheaper.
 */
function nameAt(buf: string, at: number, name: string): boolean {
  const n = name.length;
  if (at + n > buf.length) return false;
  for (let k = 0; k < n; k++) if (buf.charCodeAt(at + k) !== name.charCodeAt(k)) return false;
  return true;
}

function indexOrEnd(buf: string, ch: string, from: number): number {
  const i = buf.indexOf(ch, from);
  return i === -1 ? buf.length : i;
}

/** XML end-of-line handling: CRLF and lone CR read as LF. */
function normalizeNewlines(s: string): string {
  return s.indexOf('\r') === -1 ? s : s.replace(/\r\n?/g, '\n');
}

/** Attribute value normalization: tabs and line breaks read as spaces. */
function normalizeAttribute(s: string): string {
  return /[\t\n\r]/.test(s) ? s.replace(/\r\n|[\t\n\r]/g, ' ') : s;
}

/** Feed with `scan()` after each refill of the cursor, then `end()` once the input is exhausted. */
export class XmlScanner {
  /** Names of the open elements, root first. */
  readonly stack: string[] = [];
  private rootSeen = false;
  /**
   * Element names seen at each depth, in order, and where the next sibling is expected. Names become
   * property keys, and a freshly sliced string must be hashed and internalized on every use; records
   * repeat the same names in the same order, so matching the expected name in place returns the one
   * string already interned (about a fifth of the read time on record-shaped data).
   */
  private readonly seen: string[][] = [];
  private readonly expect: number[] = [];
  private readonly interned = new Map<string, string>();
  /**
   * The window the two positions below refer to, and the next '&' and '\r' in it at or after the text
   * last looked at (buf.length when there is none): text that lies before both needs no decoding, so
   * most texts cost no search of their own.
   */
  private searched = '';
  private nextAmp = -1;
  private nextCr = -1;

  constructor(
    private readonly cur: TextCursor,
    private readonly on: XmlEvents,
  ) {}

  /** Handles every complete token in the window; stops at an incomplete one (unless the input ended). */
  scan(): void {
    const cur = this.cur;
    const buf = cur.buf;
    const len = buf.length;
    let pos = cur.pos;
    while (pos < len) {
      let next: number;
      if (buf.charCodeAt(pos) !== LT) next = this.text(buf, pos);
      else {
        const c = buf.charCodeAt(pos + 1);
        if (c === SLASH) next = this.closeTag(buf, pos);
        else if (c === BANG) next = this.bang(buf, pos);
        else if (c === QMARK) next = this.until(buf, pos, '?>', 'processing instruction');
        else if (Number.isNaN(c)) next = this.incomplete(pos, 'tag');
        else next = this.openTag(buf, pos);
      }
      if (next === -1) break;
      pos = next;
    }
    cur.pos = pos;
  }

  /** Checks the document is complete. */
  end(): void {
    const { cur } = this;
    if (cur.pos < cur.buf.length) this.scan();
    if (this.stack.length > 0) {
      throw new XmlSyntaxError(`unclosed element <${this.stack[this.stack.length - 1]}>`, cur.buf.length);
    }
    if (!this.rootSeen) throw new XmlSyntaxError('document has no root element', cur.buf.length);
  }

  /** -1 while more input may come; an error once it cannot. */
  private incomplete(at: number, what: string): number {
    if (!this.cur.done) return -1;
    throw new XmlSyntaxError(`unexpected end of input inside a ${what}`, at);
  }

  private text(buf: string, pos: number): number {
    let lt = buf.indexOf('<', pos);
    if (lt === -1) {
      // Wait for the rest (an entity may straddle the refill); at the end, text runs to the end.
      if (!this.cur.done) return -1;
      lt = buf.length;
    }
    const raw = buf.slice(pos, lt);
    if (this.stack.length === 0) {
      if (raw.trim() !== '') throw new XmlSyntaxError('text outside the root element', pos);
      return lt;
    }
    if (this.searched !== buf) {
      this.searched = buf;
      this.nextAmp = -1;
      this.nextCr = -1;
    }
    if (this.nextAmp < pos) this.nextAmp = indexOrEnd(buf, '&', pos);
    if (this.nextCr < pos) this.nextCr = indexOrEnd(buf, '\r', pos);
    if (this.nextAmp >= lt && this.nextCr >= lt) this.on.text(raw);
    else this.on.text(decodeEntities(raw, pos, true));
    return lt;
  }

  private until(buf: string, pos: number, close: string, what: string): number {
    const end = buf.indexOf(close, pos + 2);
    return end === -1 ? this.incomplete(pos, what) : end + close.length;
  }

  private bang(buf: string, pos: number): number {
    if (buf.startsWith('<!--', pos)) return this.until(buf, pos, '-->', 'comment');
    if (buf.startsWith('<![CDATA[', pos)) {
      const end = buf.indexOf(']]>', pos + 9);
      if (end === -1) return this.incomplete(pos, 'CDATA section');
      if (this.stack.length === 0) throw new XmlSyntaxError('CDATA outside the root element', pos);
      this.on.text(normalizeNewlines(buf.slice(pos + 9, end)), true);
      return end + 3;
    }
    if (buf.length - pos < 9) return this.incomplete(pos, 'declaration');
    if (buf.startsWith('<!DOCTYPE', pos)) {
      if (this.rootSeen) throw new XmlSyntaxError('DOCTYPE after the root element', pos);
      // An internal subset may hold '>' inside brackets; the body is only looked at, never processed.
      const gt = buf.indexOf('>', pos);
      const bracket = buf.indexOf('[', pos);
      let end = gt;
      if (bracket !== -1 && (gt === -1 || bracket < gt)) {
        const close = buf.indexOf(']', bracket);
        end = close === -1 ? -1 : buf.indexOf('>', close);
      }
      if (end === -1) return this.incomplete(pos, 'DOCTYPE');
      const refusal = this.on.doctype(buf.slice(pos + 9, end));
      if (refusal) throw new XmlSyntaxError(refusal, pos);
      return end + 1;
    }
    throw new XmlSyntaxError("unexpected '<!'", pos);
  }

  private closeTag(buf: string, pos: number): number {
    const open = this.stack[this.stack.length - 1];
    if (open !== undefined) {
      // The usual case, </name> exactly, without searching for the '>'.
      const end = pos + 2 + open.length;
      if (buf.charCodeAt(end) === GT && nameAt(buf, pos + 2, open)) {
        this.stack.pop();
        this.on.close(open);
        return end + 1;
      }
    }
    const gt = buf.indexOf('>', pos + 2);
    if (gt === -1) return this.incomplete(pos, 'closing tag');
    // Compared in place: slicing every closing name would cost an allocation per element.
    let end = pos + 2 + (open?.length ?? 0);
    const same = open !== undefined && nameAt(buf, pos + 2, open);
    while (end < gt && isSpace(buf.charCodeAt(end))) end++;
    if (!same || end !== gt) {
      let last = gt;
      while (last > pos + 2 && isSpace(buf.charCodeAt(last - 1))) last--;
      const name = buf.slice(pos + 2, last);
      if (open === undefined) throw new XmlSyntaxError(`closing tag </${name}> without an open element`, pos);
      throw new XmlSyntaxError(`closing tag </${name}> does not match <${open}>`, pos);
    }
    this.stack.pop();
    this.on.close(open);
    return gt + 1;
  }

  /** The interned name at `at` when it is one seen before at this depth (the expected one first). */
  private knownName(buf: string, at: number, depth: number): string | undefined {
    const seen = this.seen[depth];
    if (seen === undefined) return undefined;
    let k = this.expect[depth]!;
    for (let tries = 0; tries < seen.length; tries++, k++) {
      if (k >= seen.length) k = 0;
      const name = seen[k]!;
      if (nameAt(buf, at, name) && endsName(buf.charCodeAt(at + name.length))) {
        this.expect[depth] = k + 1;
        if (depth + 1 < this.expect.length) this.expect[depth + 1] = 0;
        return name;
      }
    }
    return undefined;
  }

  private intern(raw: string, depth: number): string {
    let name = this.interned.get(raw);
    if (name === undefined) {
      // Flattening detaches the name from the window it was sliced from.
      name = (' ' + raw).slice(1);
      if (this.interned.size < 10_000) this.interned.set(name, name);
    }
    while (this.seen.length <= depth) {
      this.seen.push([]);
      this.expect.push(0);
    }
    const seen = this.seen[depth]!;
    if (seen.length < 32 && !seen.includes(name)) seen.push(name);
    const k = seen.indexOf(name);
    this.expect[depth] = k === -1 ? 0 : k + 1;
    if (depth + 1 < this.expect.length) this.expect[depth + 1] = 0;
    return name;
  }

  private openTag(buf: string, pos: number): number {
    const len = buf.length;
    let i = pos + 1;
    if (badNameStart(buf.charCodeAt(i))) throw new XmlSyntaxError('invalid element name', i);
    const depth = this.stack.length;
    let name = this.knownName(buf, pos + 1, depth);
    if (name !== undefined) i += name.length;
    else {
      while (i < len && !endsName(buf.charCodeAt(i))) i++;
      if (i >= len) return this.incomplete(pos, 'tag');
      name = this.intern(buf.slice(pos + 1, i), depth);
    }
    if (i >= len) return this.incomplete(pos, 'tag');
    let attrs: string[] | undefined;
    for (;;) {
      const spaceAt = i;
      while (i < len && isSpace(buf.charCodeAt(i))) i++;
      if (i >= len) return this.incomplete(pos, 'tag');
      const c = buf.charCodeAt(i);
      if (c === GT || c === SLASH) {
        const selfClosing = c === SLASH;
        if (selfClosing) {
          if (i + 1 >= len) return this.incomplete(pos, 'tag');
          if (buf.charCodeAt(i + 1) !== GT) throw new XmlSyntaxError("expected '>' after '/'", i + 1);
        }
        if (this.stack.length === 0) {
          if (this.rootSeen) throw new XmlSyntaxError('a document has exactly one root element', pos);
          this.rootSeen = true;
        }
        this.stack.push(name);
        this.on.open(name, attrs);
        if (selfClosing) {
          this.stack.pop();
          this.on.close(name);
          return i + 2;
        }
        return i + 1;
      }
      if (i === spaceAt) throw new XmlSyntaxError('attributes must be separated by white space', i);
      // name = "value"
      const nameStart = i;
      if (badNameStart(c)) throw new XmlSyntaxError('invalid attribute name', i);
      while (i < len && !endsName(buf.charCodeAt(i))) i++;
      const attr = buf.slice(nameStart, i);
      while (i < len && isSpace(buf.charCodeAt(i))) i++;
      if (i >= len) return this.incomplete(pos, 'tag');
      if (buf.charCodeAt(i) !== EQ) throw new XmlSyntaxError(`attribute ${attr} has no value`, i);
      i++;
      while (i < len && isSpace(buf.charCodeAt(i))) i++;
      if (i >= len) return this.incomplete(pos, 'tag');
      const q = buf.charCodeAt(i);
      if (q !== DQ && q !== SQ) throw new XmlSyntaxError(`the value of attribute ${attr} must be quoted`, i);
      const close = buf.indexOf(q === DQ ? '"' : "'", i + 1);
      if (close === -1) return this.incomplete(pos, 'tag');
      const raw = buf.slice(i + 1, close);
      if (raw.indexOf('<') !== -1) throw new XmlSyntaxError(`'<' in the value of attribute ${attr}`, i);
      attrs ??= [];
      for (let k = 0; k < attrs.length; k += 2) {
        if (attrs[k] === attr) throw new XmlSyntaxError(`duplicate attribute ${attr}`, nameStart);
      }
      attrs.push(attr, decodeEntities(normalizeAttribute(raw), i + 1));
      i = close + 1;
    }
  }
}
