/**
 * The difference between two definitions as a list of changes at JSON Pointer paths (RFC 6901), the
 * way JSON Patch names them: what a console shows side by side and an API client can read without a
 * text diff. Arrays are compared by position.
 */
export interface SpecChange {
  op: 'add' | 'remove' | 'replace';
  path: string;
  from?: unknown;
  to?: unknown;
}

export function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function specChanges(a: unknown, b: unknown, path = ''): SpecChange[] {
  if (isContainer(a) && isContainer(b) && Array.isArray(a) === Array.isArray(b)) {
    const out: SpecChange[] = [];
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const at = `${path}/${escapePointer(key)}`;
      const inA = Object.hasOwn(a, key);
      const inB = Object.hasOwn(b, key);
      const va = (a as Record<string, unknown>)[key];
      const vb = (b as Record<string, unknown>)[key];
      if (!inA) out.push({ op: 'add', path: at, to: vb });
      else if (!inB) out.push({ op: 'remove', path: at, from: va });
      else out.push(...specChanges(va, vb, at));
    }
    return out;
  }
  return a === b ? [] : [{ op: 'replace', path, from: a, to: b }];
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}
