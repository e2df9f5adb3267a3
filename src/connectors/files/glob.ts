import type { FileOps } from './file-ops.js';

const WILDCARD = /[*?[]/;

export function hasWildcard(pattern: string): boolean {
  return WILDCARD.test(pattern);
}

/** `*` and `?` within one path segment, like a shell; a leading dot must be matched explicitly. */
function segmentRegex(segment: string): RegExp {
  let re = '';
  for (const ch of segment) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Files under `root` matching a clean relative pattern, as relative paths in name order (the order a
 * user expects for `orders-2024-01.csv`, `orders-2024-02.csv`, …). Directories are never matched.
 */
export async function matchFiles(ops: FileOps, root: string, pattern: string): Promise<string[]> {
  const segments = pattern.split('/');
  let current = [''];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const rel of current) {
      const re = segmentRegex(segment);
      for (const entry of await ops.list(ops.path.join(root, rel))) {
        if (entry.name.startsWith('.') && !segment.startsWith('.')) continue;
        if (!re.test(entry.name)) continue;
        const isDir = entry.isDirectory() || entry.isSymbolicLink();
        if (last ? entry.isFile() || entry.isSymbolicLink() : isDir)
          next.push(rel ? `${rel}/${entry.name}` : entry.name);
      }
    }
    current = next;
  }
  return current.sort();
}

/** Every regular file under `root` (not following symlinked folders), skipping hidden names, up to `limit`. */
export async function listFiles(ops: FileOps, root: string, limit = 10_000): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const list = (await ops.list(ops.path.join(root, rel))).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of list) {
      if (out.length >= limit) return;
      if (entry.name.startsWith('.')) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  await walk('');
  return out;
}
