/**
 * The web console end to end: a real `integrator start` process on the embedded SQLite store with the
 * demo project, and a real Chromium. Tokens live 12 s here, so every page also runs across renewals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startProcess } from '../helpers/processes.js';
import { launchChromium, screenshot, seriousViolations } from './browser.js';

const PASSWORD = 'console-admin-pw';
const VIEWER_PASSWORD = 'viewer-password-1';
const API_PASSWORD = 'api-password-1';
const TTL = 12;
const scratch = mkdtempSync(join(tmpdir(), 'integrator-console-'));

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const foreign: string[] = [];
const pageErrors: string[] = [];

/** A REST call as admin with a fresh token (the server's tokens live only TTL seconds). */
async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const login = await fetch(`${server.url}/rest/v1/token-auth/issue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password: PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function newPage(): Promise<Page> {
  const p = await context.newPage();
  p.on('request', (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  p.on('pageerror', (e) => pageErrors.push(String(e)));
  return p;
}

async function expectAccessible(p: Page): Promise<void> {
  expect(await seriousViolations(p)).toEqual([]);
}

async function signIn(p: Page, login: string, password: string): Promise<void> {
  await p.goto(`${server.url}/`);
  await p.getByLabel('Login').waitFor();
  // The keyboard alone: the login field has the focus, Tab moves on, Enter submits.
  await p.keyboard.type(login);
  await p.keyboard.press('Tab');
  await p.keyboard.type(password);
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: 'Flows', level: 1 }).waitFor();
}

/** Presses Tab until the element with this accessible name has the focus (at most 40 times). */
async function tabTo(p: Page, name: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await p.keyboard.press('Tab');
    const focused = await p.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''");
    if (focused === name) return;
  }
  throw new Error(`Tab never reached ${name}`);
}

beforeAll(async () => {
  server = await startProcess('all', {
    INTEGRATOR_DEMO: 'true',
    INTEGRATOR_ADMIN_PASSWORD: PASSWORD,
    INTEGRATOR_TOKEN_TTL: String(TTL),
  });
  const created = await api('POST', '/rest/v1/users', {
    login: 'vera',
    password: VIEWER_PASSWORD,
    role: 'viewer',
  });
  expect(created.status).toBe(201);
  expect(
    (await api('POST', '/rest/v1/users', { login: 'app', password: API_PASSWORD, role: 'api' })).status,
  ).toBe(201);
  expect(
    (
      await api('PUT', '/rest/v1/connections/pg', {
        type: 'postgres',
        url: 'postgres://postgres@127.0.0.1:5432/test',
      })
    ).status,
  ).toBeLessThan(300);
  expect(
    (
      await api('PUT', '/rest/v1/flows/slow-sleep', {
        type: 'sql',
        connection: 'pg',
        sql: 'select pg_sleep(120)',
      })
    ).status,
  ).toBeLessThan(300);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1180, height: 760 }, reducedMotion: 'reduce' });
  page = await newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
  rmSync(scratch, { recursive: true, force: true });
});

describe('web console', { timeout: 60_000 }, () => {
  it('refuses a wrong password at the form, then signs in with the keyboard', async () => {
    await page.goto(`${server.url}/flows`);
    await page.getByLabel('Login').waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await expectAccessible(page);
    await screenshot(page, 'sign-in', scratch);
    await page.getByLabel('Login').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('Login or password is incorrect');
    // An api user may call listeners only: the console says so and keeps nothing.
    await page.getByLabel('Login').fill('app');
    await page.getByLabel('Password').fill(API_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('needs the viewer role');
    await signIn(page, 'admin', PASSWORD);
    await expect.poll(() => page.getByTestId('user').textContent()).toBe('admin');
  });

  it('lists the flows with a search and each one’s last run', async () => {
    await page.getByRole('table', { name: 'Flows' }).waitFor();
    const flows = await api<{ name: string }[]>('GET', '/rest/v1/flows');
    await expect.poll(() => page.locator('tr[data-flow]').count()).toBe(flows.body.length);
    await page.getByLabel('Search flows').fill('param');
    await expect.poll(() => page.locator('tr[data-flow]').count()).toBe(1);
    await page.getByLabel('Search flows').fill('');
    await expectAccessible(page);
    await screenshot(page, 'flows', scratch);
  });

  it('runs flow_with_parameters from its typed form by keyboard and follows it live to the end', async () => {
    await page.getByRole('link', { name: 'flow_with_parameters' }).click();
    await page.getByRole('heading', { name: 'Flow flow_with_parameters' }).waitFor();
    await page.getByRole('list', { name: 'Steps' }).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'flow', scratch);
    await tabTo(page, 'Run');
    await page.keyboard.press('Enter');
    const field = page.getByLabel('roleid');
    await field.waitFor();
    // The form checks the value as the server will, at the field.
    await page.keyboard.type('two');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByText('roleid must be a whole number').count()).toBe(1);
    await expectAccessible(page);
    await field.fill('');
    await page.keyboard.type('2');
    await page.keyboard.press('Enter');
    // The run may end before its page asks for events; the slow run below is followed by them.
    const live = page.getByTestId('live-run');
    await expect.poll(() => live.getAttribute('data-status'), { timeout: 20_000 }).toBe('succeeded');
    await expect.poll(() => live.locator('[data-cell="rows-written"]').first().textContent()).toBe('1');
    await screenshot(page, 'flow-run', scratch);
    await expectAccessible(page);
  });

  it('finds the run in the history and opens its detail', async () => {
    const runs = await api<{ id: string; params: Record<string, string> }[]>(
      'GET',
      '/rest/v1/runs?flow=flow_with_parameters',
    );
    const id = runs.body[0]?.id ?? '';
    expect(runs.body[0]?.params).toEqual({ roleid: '2' });
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByRole('table', { name: 'Runs' }).waitFor();
    await page.getByLabel('Status').first().click();
    await page.getByRole('option', { name: 'succeeded' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('succeeded');
    await page.locator(`tr[data-run-id="${id}"]`).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'runs', scratch);
    await page.locator(`tr[data-run-id="${id}"] a`).click();
    const detail = page.getByTestId('run');
    await expect.poll(() => detail.getAttribute('data-status')).toBe('succeeded');
    const params = page.getByRole('table', { name: 'Parameters of the run' });
    expect(await params.locator('td').allTextContents()).toEqual(['roleid', '2']);
    expect(
      await page.getByRole('table', { name: 'Steps' }).locator('[data-cell="rows-read"]').allTextContents(),
    ).toEqual(['1']);
    await expectAccessible(page);
    await screenshot(page, 'run', scratch);
  });

  it('pages the history on the server', async () => {
    // 30 more runs of my-flow, so the filtered history has two pages of 25.
    for (let i = 0; i < 30; i++) {
      expect((await api('POST', '/rest/v1/flows/flow-name/my-flow/run')).status).toBe(200);
    }
    await page.goto(`${server.url}/runs?flow=my-flow`);
    const rows = page.locator('tr[data-run-id]');
    await expect.poll(() => rows.count()).toBe(25);
    const firstPage = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => rows.count()).toBe(5);
    const second = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(second.filter((id) => firstPage.includes(id))).toEqual([]);
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await expect
      .poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id'))))
      .toEqual(firstPage);
  });

  it('cancels a slow run and runs it again', async () => {
    await page.goto(`${server.url}/flows/slow-sleep`);
    await page.getByRole('button', { name: 'Run' }).click();
    const events = page.waitForResponse((r) => r.url().includes('/rest/v1/events?runId='));
    await page.getByRole('button', { name: 'Start run' }).click();
    expect((await events).headers()['content-type']).toMatch(/^text\/event-stream/);
    const live = page.getByTestId('live-run');
    await expect.poll(() => live.getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
    const id = (await live.getAttribute('data-run-id')) ?? '';
    const stream = page.waitForResponse((r) => r.url().includes(`/rest/v1/events?runId=${id}`));
    await live.getByRole('link', { name: `Open run ${id}` }).click();
    expect((await stream).status()).toBe(200);
    const detail = page.getByTestId('run');
    await expect.poll(() => detail.getAttribute('data-status')).toBe('running');
    // The end arrives as a run.finished event on the stream the page holds open.
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => detail.getAttribute('data-status'), { timeout: 20_000 }).toBe('cancelled');
    const stored = await api<{ status: string }>('GET', `/rest/v1/runs/${id}`);
    expect(stored.body.status).toBe('cancelled');
    await page.getByRole('button', { name: 'Run again' }).click();
    await expect.poll(() => new URL(page.url()).pathname).not.toBe(`/runs/${id}`);
    await expect
      .poll(() => page.getByTestId('run').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('running');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect
      .poll(() => page.getByTestId('run').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('cancelled');
  });

  it('shows the audit trail and verifies its chain', async () => {
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('table', { name: 'Audit events' }).waitFor();
    await page.getByRole('button', { name: 'Verify chain' }).click();
    const result = page.getByTestId('verify-result');
    await expect.poll(() => result.textContent()).toContain('The chain is whole');
    await page.getByLabel('Action').fill('flow.run.cancelled');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByRole('table', { name: 'Audit events' }).locator('tbody tr').count())
      .toBe(2);
    await expectAccessible(page);
    await screenshot(page, 'audit', scratch);
  });

  it('tests connections from their list', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('table', { name: 'Connections' }).waitFor();
    await page.getByRole('button', { name: 'Test connection demo' }).click();
    await expect.poll(() => page.getByTestId('test-demo').getAttribute('data-ok')).toBe('true');
    await page.getByRole('button', { name: 'Test connection pg' }).click();
    await expect.poll(() => page.getByTestId('test-pg').getAttribute('data-ok')).toBe('true');
    await expectAccessible(page);
    await screenshot(page, 'connections', scratch);
  });

  it('compares two versions of a flow and reverts to the older one', async () => {
    const flow = await api<Record<string, unknown>>('GET', '/rest/v1/flows/my-flow');
    const { name: _n, version: _v, createdAt: _c, updatedAt: _u, updatedBy: _b, ...spec } = flow.body;
    expect(
      (await api('PUT', '/rest/v1/flows/my-flow', { ...spec, description: 'Copies patients, edited' }))
        .status,
    ).toBe(200);
    await page.goto(`${server.url}/flows/my-flow`);
    const versions = page.getByRole('table', { name: 'Versions' });
    await expect.poll(() => versions.locator('tr[data-version]').count()).toBe(2);
    const change = page.getByRole('table', { name: 'Changes' }).locator('tr[data-path="/description"]');
    await expect
      .poll(() => change.locator('td').allTextContents())
      .toEqual(['replace', '/description', JSON.stringify(spec.description), '"Copies patients, edited"']);
    await expectAccessible(page);
    await page.getByRole('heading', { name: 'Versions' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'versions', scratch);
    await page.getByRole('button', { name: 'Revert to version 1' }).click();
    await expect.poll(() => versions.locator('tr[data-version]').count()).toBe(3);
    await expect.poll(() => page.getByText(/^version 3, saved/).count()).toBe(1);
    await expect.poll(() => page.getByText(String(spec.description), { exact: true }).count()).toBe(1);
    const now = await api<{ version: number; description: string }>('GET', '/rest/v1/flows/my-flow');
    expect(now.body).toMatchObject({ version: 3, description: spec.description });
  });

  it('shows runs per hour and the queue on the dashboard', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const title = page.getByRole('heading', { name: /^Runs per hour, last 24 hours/ });
    await title.waitFor();
    const hourly = await api<{ succeeded: number; failed: number; cancelled: number }[]>(
      'GET',
      '/rest/v1/runs/hourly',
    );
    const ok = hourly.body.reduce((n, h) => n + h.succeeded, 0);
    const bad = hourly.body.reduce((n, h) => n + h.failed + h.cancelled, 0);
    expect(ok).toBeGreaterThanOrEqual(31);
    expect(bad).toBeGreaterThanOrEqual(2);
    expect(await title.textContent()).toBe(
      `Runs per hour, last 24 hours: ${ok} succeeded, ${bad} failed or cancelled`,
    );
    await page.getByRole('img', { name: 'Runs per hour, last 24 hours' }).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'dashboard', scratch);
  });

  it('shows the schedules and listeners of a flow, and the runs a pipeline started', async () => {
    expect(
      (
        await api('PUT', '/rest/v1/schedules/nightly-copy', {
          flow: 'my-flow',
          cron: '0 3 * * *',
          enabled: false,
        })
      ).status,
    ).toBe(201);
    await page.goto(`${server.url}/flows/my-flow`);
    const schedule = page.locator('tr[data-schedule="nightly-copy"] td');
    await expect
      .poll(() => schedule.allTextContents())
      .toEqual(['nightly-copy', '0 3 * * *', 'UTC', 'disabled']);
    await page.goto(`${server.url}/flows/hl7-patient-in`);
    await expect
      .poll(() => page.locator('tr[data-listener="hl7-patient"]').textContent())
      .toContain(`${server.url}/rest/v1/httplistener/hl7/patient`);
    expect(
      (
        await api('PUT', '/rest/v1/flows/twice', {
          type: 'pipeline',
          flows: [{ flow: 'my-flow' }, { flow: 'my-flow' }],
        })
      ).status,
    ).toBe(201);
    const ran = await api<{ status: number; runId: string }>('POST', '/rest/v1/flows/flow-name/twice/run');
    expect(ran.body.status).toBe(0);
    await page.goto(`${server.url}/runs/${ran.body.runId}`);
    const children = page.getByRole('table', { name: 'Runs it started' }).locator('tr[data-child-run]');
    await expect.poll(() => children.count()).toBe(2);
    await children.first().getByRole('link', { name: 'my-flow' }).click();
    await expect.poll(() => page.getByRole('link', { name: ran.body.runId }).count()).toBe(1);
    await expectAccessible(page);
    // A time range that holds no run yet.
    await page.goto(`${server.url}/runs`);
    await page.locator('tr[data-run-id]').first().waitFor();
    await page.getByLabel('Created from').fill('2999-01-01T00:00');
    await expect.poll(() => page.getByText('No runs match.').count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('from')).toMatch(/^2999-01-01T/);
  });

  it('keeps the session past the token lifetime by renewing it', async () => {
    const renewed = await page.waitForResponse((r) => r.url().endsWith('/rest/v1/token-auth/renew'), {
      timeout: TTL * 1000,
    });
    expect(renewed.status(), await renewed.text()).toBe(200);
    await new Promise((r) => setTimeout(r, TTL * 1000));
    await page.getByRole('link', { name: 'Flows' }).click();
    await page.getByRole('table', { name: 'Flows' }).waitFor();
    expect(await page.getByTestId('user').textContent()).toBe('admin');
  });

  it('shows a viewer no run, cancel or audit controls', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Login').waitFor();
    await signIn(page, 'vera', VIEWER_PASSWORD);
    expect(await page.getByRole('link', { name: 'Audit trail' }).count()).toBe(0);
    await page.getByRole('link', { name: 'slow-sleep' }).click();
    await page.getByRole('heading', { name: 'Flow slow-sleep' }).waitFor();
    await page.getByRole('list', { name: 'Steps' }).or(page.getByText('SQL on pg')).first().waitFor();
    expect(await page.getByRole('button', { name: 'Run' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Revert/ }).count()).toBe(0);
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('table', { name: 'Connections' }).waitFor();
    expect(await page.getByRole('button', { name: /^Test connection/ }).count()).toBe(0);
    await page.goto(`${server.url}/runs?flow=slow-sleep`);
    await page.locator('tr[data-run-id] a').first().click();
    await page.getByTestId('run').waitFor();
    expect(await page.getByRole('button', { name: 'Run again' }).count()).toBe(0);
    await page.goto(`${server.url}/audit`);
    await page.getByText('There is no page here.').waitFor();
    await expectAccessible(page);
  });

  it('loaded nothing but this server, without a script error', () => {
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
