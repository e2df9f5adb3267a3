import type { ErrorDetail } from '../core/errors.js';
import type { DefinitionKind, KindName } from './definition-kind.js';

/** A definition's spec as stored (or about to be), or undefined when there is no such definition. */
export type SpecLookup = (kind: KindName, name: string) => Promise<unknown>;

export interface ReferenceProblem extends ErrorDetail {
  code: 'REFERENCE_NOT_FOUND' | 'REFERENCE_CYCLE';
}

/**
 * What is wrong with the definitions a spec names: each one that does not exist, and, for a flow, each
 * flow it names through which it reaches itself again (a pipeline calling itself, directly or through
 * other pipelines, would nest runs without end). `lookup` sees the store, or the store overlaid with the
 * documents of an apply, so a whole project is checked before anything is written.
 */
export async function referenceProblems(
  kindOf: (kind: KindName) => DefinitionKind,
  kind: KindName,
  name: string,
  spec: unknown,
  lookup: SpecLookup,
): Promise<ReferenceProblem[]> {
  const problems: ReferenceProblem[] = [];
  const refs = kindOf(kind).references?.(spec) ?? [];
  for (const ref of refs) {
    if ((await lookup(ref.kind, ref.name)) === undefined) {
      problems.push({
        code: 'REFERENCE_NOT_FOUND',
        path: ref.path,
        message: `${kindOf(ref.kind).title.toLowerCase()} '${ref.name}' does not exist`,
      });
    } else if (kind === 'flow' && ref.kind === 'flow') {
      const chain = await pathBack(kindOf, ref.name, name, lookup);
      if (chain) {
        problems.push({
          code: 'REFERENCE_CYCLE',
          path: ref.path,
          message: `flow '${name}' would run itself: ${[name, ...chain].join(' → ')}`,
        });
      }
    }
  }
  return problems;
}

/** The chain of flow names from `from` that reaches `target` (ending with it), if there is one. */
async function pathBack(
  kindOf: (kind: KindName) => DefinitionKind,
  from: string,
  target: string,
  lookup: SpecLookup,
): Promise<string[] | undefined> {
  const seen = new Set<string>();
  const walk = async (flow: string): Promise<string[] | undefined> => {
    if (flow === target) return [flow];
    if (seen.has(flow)) return undefined;
    seen.add(flow);
    const spec = await lookup('flow', flow);
    if (spec === undefined) return undefined;
    for (const ref of kindOf('flow').references?.(spec) ?? []) {
      if (ref.kind !== 'flow') continue;
      const rest = await walk(ref.name);
      if (rest) return [flow, ...rest];
    }
    return undefined;
  };
  return walk(from);
}
