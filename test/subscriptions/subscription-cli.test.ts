/**
 * The `integrator subscription` commands on a real store: help, list, status, pause and resume (audited
 * with the CLI user), and the errors for an unknown subscription.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { createLogger } from '../../src/core/logger.js';
import { closeStoreServices, openStoreServices } from '../../src/store-services.js';

const exec = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'integrator-subs-cli-'));
const env = {
  ...process.env,
  INTEGRATOR_DATA_DIR: dataDir,
  INTEGRATOR_ADMIN_PASSWORD: 'cli-admin-pass',
  INTEGRATOR_DATABASE_URL: '',
};

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', ['bin/integrator.js', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('integrator subscription', { timeout: 120_000 }, () => {
  it('shows help, lists, and pauses and resumes with the CLI user audited', async () => {
    const help = await cli(['subscription', '--help']);
    expect(help.code).toBe(0);
    for (const c of [
      'list [options]',
      'status [options] <name>',
      'pause [options] <name>',
      'resume [options] <name>',
    ])
      expect(help.stdout).toContain(c);

    const project = join(dataDir, 'project.yaml');
    writeFileSync(
      project,
      [
        'kind: connection',
        'name: rabbit',
        'type: rabbitmq',
        'url: amqp://guest:guest@127.0.0.1:5672',
        '---',
        'kind: connection',
        'name: pg',
        'type: postgres',
        'url: postgres://postgres@127.0.0.1:5432/test',
        '---',
        'kind: flow',
        'name: land',
        'type: transfer',
        'steps:',
        '  - from: { connection: "@message" }',
        '    to: { connection: pg, table: cli_orders }',
        '---',
        'kind: subscription',
        'name: orders',
        'connection: rabbit',
        'queue: cli-orders',
        'flow: land',
        '',
      ].join('\n'),
    );
    const applied = await cli(['apply', '-f', project]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const list = await cli(['subscription', 'list']);
    expect(list.stdout).toMatch(/^orders\tidle\tacked 0/m);
    const paused = await cli(['subscription', 'pause', 'orders', '--json']);
    expect(paused.code).toBe(0);
    const body = JSON.parse(paused.stdout) as { paused: boolean; state: string; pausedBy: string };
    expect(body).toMatchObject({ paused: true, state: 'paused' });
    expect(body.pausedBy).toMatch(/^cli:/);
    const status = await cli(['subscription', 'status', 'orders']);
    expect(status.stdout).toMatch(/^orders: paused \(paused by cli:/);
    const resumed = await cli(['subscription', 'resume', 'orders']);
    expect(resumed.stdout).toMatch(/^orders: idle/);
    const services = await openStoreServices(loadSettings(env), createLogger('silent'));
    try {
      const events = (await services.audit.query({})).filter((e) => e.target === 'orders');
      expect(events.map((e) => e.action)).toEqual(
        expect.arrayContaining(['subscription.paused', 'subscription.resumed']),
      );
      expect(events.every((e) => e.actor?.startsWith('cli:'))).toBe(true);
    } finally {
      await closeStoreServices(services);
    }

    const missing = await cli(['subscription', 'status', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \(NOT_FOUND\): .*nope/);
  });
});
