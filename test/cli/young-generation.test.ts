/**
 * An idle server's young generation is the size its start-up left: `integrator start` holds V8's
 * young-generation growth while it loads and builds everything, so the module loading does not leave
 * 32 MB of semi-spaces behind (read from the server's own /metrics, prom-client's heap space sizes).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startProcess } from '../helpers/processes.js';

const started: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
});

async function newSpaceBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('integrator_nodejs_heap_space_size_total_bytes{space="new"}'));
  expect(line, 'the new space size is among the default metrics').toBeDefined();
  return Number(line?.split(' ').at(-1));
}

describe('young generation at start', { timeout: 60_000 }, () => {
  it('a started server has not grown its young generation for the start-up', async () => {
    const server = await startProcess('all', { INTEGRATOR_ADMIN_PASSWORD: 'young-generation-pw' });
    started.push(server);
    // V8 starts with 1 MB semi-spaces (2 MB in all); the start-up alone grew them to 16 MB each.
    expect(await newSpaceBytes(server.url)).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});
