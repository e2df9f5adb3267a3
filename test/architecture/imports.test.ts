import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importGraph, reachable } from './import-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const graph = importGraph(SRC);

describe('dependencies point one way', () => {
  it('reads the imports of the sources (the walk itself works)', () => {
    expect(graph.get('runs/run-service.ts')).toContain('flows/flow-engine.ts');
    expect(reachable(graph, 'runs/run-service.ts')).toContain('flows/engine-types.ts');
  });

  it('the flow engine reaches nothing that records runs, serves HTTP or wires the process', () => {
    const reached = [...reachable(graph, 'flows/flow-engine.ts')];
    const outside = reached.filter(
      (f) =>
        /^(runs|server|listeners|scheduler|notifications|cli)\//.test(f) ||
        f === 'context.ts' ||
        /^(@fastify\/|fastify)/.test(f),
    );
    expect(outside).toEqual([]);
  });

  it('runs/ builds on flows/, never the reverse', () => {
    const back = [...graph]
      .filter(([file]) => file.startsWith('flows/'))
      .flatMap(([file, targets]) =>
        targets.filter((t) => t.startsWith('runs/')).map((t) => `${file} -> ${t}`),
      );
    expect(back).toEqual([]);
  });
});
