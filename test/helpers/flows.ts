/** Saving and running one-step transfer flows in a test server, for the value tests. */
import { expect } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import type { TestServer } from './server.js';

const by = { name: 'test' };

export function transferFlows(s: Pick<TestServer, 'ctx'>) {
  const run = (flow: string): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params: {}, trigger: 'api', requestedBy: 'test' });
  const save = (name: string, step: Record<string, unknown>) =>
    s.ctx.definitions.put('flow', name, { type: 'transfer', steps: [step] }, by);
  /** Saves and runs the step; it must succeed. */
  const transfer = async (name: string, step: Record<string, unknown>): Promise<Run> => {
    await save(name, step);
    const r = await run(name);
    expect(r.status, `${name}: ${r.error}`).toBe('succeeded');
    return r;
  };
  /** Saves and runs the step; it must fail, having written nothing. */
  const refused = async (name: string, step: Record<string, unknown>): Promise<Run> => {
    await save(name, step);
    const r = await run(name);
    expect(r.status, name).toBe('failed');
    expect(r.steps[0], name).toMatchObject({ rowsWritten: 0 });
    return r;
  };
  /**
   * A table of `connection` out to a file of `format` (on the row path) and back into `into`, with
   * `casts` applied on the way in (CSV gives text).
   */
  const throughFile = async (
    name: string,
    connection: string,
    table: string,
    format: 'csv' | 'json',
    casts: Record<string, string>,
    into: string,
  ): Promise<void> => {
    await transfer(`${name}-out`, {
      from: { connection, table },
      transforms: [{ type: 'filter', where: 'id > 0' }],
      to: { connection: 'files', file: `${name}.${format}`, mode: 'replace' },
    });
    await transfer(`${name}-in`, {
      from: { connection: 'files', file: `${name}.${format}` },
      transforms: [{ type: 'cast', columns: casts }],
      to: { connection, table: into },
    });
  };
  return { by, run, save, transfer, refused, throughFile };
}
