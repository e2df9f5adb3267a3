import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, importGraph, reachable } from './import-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const graph = importGraph(SRC);

describe('dependencies point one way', () => {
  it('reads the imports of the sources (the walk itself works)', () => {
    expect(graph.get('runs/run-service.ts')).toContain('flows/flow-engine.ts');
    expect(reachable(graph, 'runs/run-service.ts')).toContain('flows/engine-types.ts');
  });

  it('has no import cycle between the files under src/', () => {
    expect(findCycles(graph).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const looped = new Map([
      ['a.ts', ['b.ts', 'node:fs']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(findCycles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
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

  it("a dialect's error codes are known only inside its connector's folder", () => {
    const dialects = ['postgres/pg-errors.ts', 'mysql/mysql-errors.ts', 'sqlite/sqlite-errors.ts'];
    expect(dialects.every((f) => graph.has(`connectors/${f}`))).toBe(true);
    const outside = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((t) => dialects.some((d) => t === `connectors/${d}`))
        .filter((t) => !file.startsWith(t.slice(0, t.lastIndexOf('/') + 1)))
        .map((t) => `${file} -> ${t}`),
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
