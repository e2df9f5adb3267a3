import { type TSchema, type TUnsafe, Type } from '@sinclair/typebox';
import { AppError } from '../core/errors.js';
import { byName, namesSchema } from '../core/named-entries.js';
import type { RowStream } from '../core/records.js';
import type { ByteSource, Format, ReadContext, WriteContext } from './format.js';
import { readOptions } from './options.js';

/**
 * A format with its options already validated and defaulted: what connectors, listeners and the flow
 * engine hold. Binding once per read/write keeps option checks out of the per-row path.
 */
export interface BoundFormat {
  readonly format: Format;
  readonly type: string;
  /** The validated options, defaults filled in. */
  readonly options: Readonly<Record<string, unknown>>;
  read(input: ByteSource, ctx: ReadContext): RowStream;
  write(rows: RowStream, ctx: WriteContext): AsyncIterable<Uint8Array | string>;
  /** The same format with some options replaced (e.g. header=false when appending to a CSV file). */
  with(overrides: Record<string, unknown>): BoundFormat;
}

/** A format as a definition names it: its type and the options for it. */
export interface FormatSpec {
  type: string;
  options?: Record<string, unknown> | undefined;
}

/**
 * The formats one server knows, built from an explicit list in the composition root. Everything that
 * depends on which formats exist is derived here: the schema of a format name in flow and listener
 * definitions, media type and extension lookup, and the output a data API negotiates.
 */
export class FormatRegistry {
  private readonly byType: Map<string, Format>;
  /** Bindings by options object (or by format when there are none), then by type. */
  private readonly bound = new WeakMap<object, Map<string, BoundFormat>>();
  /** Media types an Accept header may name, longest first so the more specific wins a tie. */
  private readonly produced: { media: string; type: string }[];

  constructor(formats: readonly Format[]) {
    this.byType = byName('format', formats, (f) => f.type);
    this.produced = formats
      .flatMap((f) => f.mediaTypes.map((media) => ({ media, type: f.type })))
      .sort((a, b) => b.media.length - a.media.length);
  }

  /** The registered names, in registration order. */
  types(): string[] {
    return [...this.byType.keys()];
  }

  list(): Format[] {
    return [...this.byType.values()];
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  /** The format of a type; throws BAD_REQUEST naming the known types for anything else. */
  get(type: string): Format {
    const format = this.byType.get(type);
    if (!format) {
      throw new AppError('BAD_REQUEST', `Unknown format '${type}'; use one of ${this.types().join(', ')}`);
    }
    return format;
  }

  /** The schema of a format name in a definition: one of the registered names. */
  nameSchema(options: { description?: string } = {}): TUnsafe<string> {
    return Type.Unsafe<string>(namesSchema(this.types(), options));
  }

  /**
   * Validates `options` against the format's schema (VALIDATION_FAILED with details otherwise), fills in
   * the defaults and returns the format ready to read or write.
   */
  bind(spec: FormatSpec): BoundFormat {
    const format = this.get(spec.type);
    // Bindings are cached by options object (definitions keep theirs for the life of a version) and per
    // type without options: validating options on every listener call costs more than parsing its body.
    const key = spec.options ?? format;
    let byType = this.bound.get(key);
    let b = byType?.get(spec.type);
    if (!b) {
      b = bindTo(format, spec.options ?? {});
      if (!byType) {
        byType = new Map();
        this.bound.set(key, byType);
      }
      byType.set(spec.type, b);
    }
    return b;
  }

  /** The format for a Content-Type header value (parameters such as charset are ignored), if any. */
  forMediaType(contentType: string): Format | undefined {
    const media = contentType.split(';')[0]!.trim().toLowerCase();
    for (const f of this.byType.values()) if (f.mediaTypes.includes(media)) return f;
    const plus = media.lastIndexOf('+');
    if (plus < 0) return undefined;
    const suffix = media.slice(plus);
    for (const f of this.byType.values()) if (f.mediaTypeSuffixes?.includes(suffix)) return f;
    return undefined;
  }

  /** The format for a file extension, with or without the dot, case-insensitive, if any. */
  forExtension(ext: string): Format | undefined {
    const clean = ext.replace(/^\./, '').toLowerCase();
    for (const f of this.byType.values()) if (f.extensions.includes(clean)) return f;
    return undefined;
  }

  /** The format whose media type an Accept header names first, if any (the order of the header wins). */
  forAccept(accept: string | undefined): Format | undefined {
    const wanted = (accept ?? '').toLowerCase();
    let best: { at: number; type: string } | undefined;
    for (const { media, type } of this.produced) {
      const at = wanted.indexOf(media);
      if (at >= 0 && (!best || at < best.at)) best = { at, type };
    }
    return best && this.byType.get(best.type);
  }
}

function bindTo<S extends TSchema>(format: Format<S>, raw: unknown): BoundFormat {
  const options = readOptions(format.optionsSchema, raw, format.type);
  const plain: Record<string, unknown> = { ...(options ?? {}) };
  return {
    format,
    type: format.type,
    options: plain,
    read: (input, ctx) => format.read(input, options, ctx),
    write: (rows, ctx) => format.write(rows, options, ctx),
    with: (overrides) => bindTo(format, { ...plain, ...overrides }),
  };
}
