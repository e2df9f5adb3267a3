/**
 * The run events stream over real HTTP: a client sees a run start, progress and finish without
 * polling; `runId` follows one run and ends with it; the server shuts down with streams open.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestServer, putDefinition, type TestServer } from '../helpers/server.js';

interface SseEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

/** Reads server-sent events from a streaming response until `until` says stop or the stream ends. */
async function readEvents(res: Response, until: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(': ');
        fields.set(line.slice(0, colon), line.slice(colon + 2));
      }
      if (fields.has('event'))
        events.push({
          event: fields.get('event')!,
          id: fields.get('id'),
          data: JSON.parse(fields.get('data')!),
        });
      end = buffer.indexOf('\n\n');
    }
    if (until(events)) {
      await reader.cancel();
      return events;
    }
  }
}

describe('run events', () => {
  let s: TestServer;
  let url: string;
  let admin: { authorization: string };
  let viewer: { authorization: string };
  const ROWS = 200_000;

  beforeAll(async () => {
    s = await createTestServer();
    admin = await s.login('admin', ADMIN_PASSWORD);
    viewer = await s.userWithRole('viewer');
    const lines = ['id,name'];
    for (let i = 1; i <= ROWS; i++) lines.push(`${i},name ${i}`);
    writeFileSync(join(s.dataDir, 'files', 'many.csv'), `${lines.join('\n')}\n`);
    await putDefinition(s, admin, 'connections', 'files', { type: 'files', root: 'files' });
    await putDefinition(s, admin, 'connections', 'lite', { type: 'sqlite', path: 'files/events.db' });
    await putDefinition(s, admin, 'flows', 'load-many', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'files', file: 'many.csv' },
          transforms: [{ type: 'filter', where: 'id > 0' }],
          to: { connection: 'lite', table: 'many', mode: 'replace' },
        },
      ],
    });
    // Long enough that a client subscribing right after queueing it sees it still going.
    await putDefinition(s, admin, 'flows', 'load-four-times', {
      type: 'pipeline',
      flows: [1, 2, 3, 4].map(() => ({ flow: 'load-many' })),
    });
    url = await s.app.listen({ port: 0, host: '127.0.0.1' });
  }, 60_000);
  afterAll(() => s?.close());

  it('streams a run starting, progressing and finishing, to a viewer', async () => {
    const stream = await fetch(`${url}/rest/v1/events?flow=load-many`, { headers: viewer });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const seen = readEvents(stream, (events) => events.some((e) => e.event === 'run.finished'));
    const run = await fetch(`${url}/rest/v1/flows/flow-name/load-many/run`, {
      method: 'POST',
      headers: admin,
    });
    const outcome = (await run.json()) as { status: number; runId: string };
    expect(outcome.status).toBe(0);
    const events = await seen;
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('run.started');
    expect(types.at(-1)).toBe('run.finished');
    expect(types).toContain('run.progress');
    expect(events.every((e) => e.data['id'] === outcome.runId || e.data['runId'] === outcome.runId)).toBe(
      true,
    );
    expect(events.at(-1)?.data).toMatchObject({ status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS });
    expect(events.at(-1)?.data).not.toHaveProperty('params');
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('follows one run with runId: its state first, then its events, and ends when it finishes', async () => {
    const queued = await fetch(`${url}/rest/v1/flows/flow-name/load-four-times/run?async=true`, {
      method: 'POST',
      headers: admin,
    });
    const { runId } = (await queued.json()) as { runId: string };
    const stream = await fetch(`${url}/rest/v1/events?runId=${runId}&types=run.finished`, { headers: admin });
    const events = await readEvents(stream, () => false);
    expect(events[0]).toMatchObject({ event: 'run.state', data: { id: runId } });
    expect(events.at(-1)).toMatchObject({ event: 'run.finished', data: { id: runId, status: 'succeeded' } });
    expect(events.filter((e) => e.event !== 'run.state' && e.event !== 'run.finished')).toEqual([]);
    // A finished run's stream is its final state, and ends at once.
    const again = await fetch(`${url}/rest/v1/events?runId=${runId}`, { headers: admin });
    expect(await readEvents(again, () => false)).toEqual([
      expect.objectContaining({ event: 'run.state', data: expect.objectContaining({ status: 'succeeded' }) }),
    ]);
  });

  it('refuses what it cannot serve with the API error shape', async () => {
    const noToken = await fetch(`${url}/rest/v1/events`);
    expect(noToken.status).toBe(401);
    const badType = await fetch(`${url}/rest/v1/events?types=run.finished,run.exploded`, { headers: admin });
    expect(badType.status).toBe(400);
    expect(
      ((await badType.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path,
    ).toBe('/types');
    const unknown = await fetch(`${url}/rest/v1/events?runId=no-such-run`, { headers: admin });
    expect(unknown.status).toBe(404);
  });

  it('is in the OpenAPI document as an event stream', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: object }> } }>;
    };
    expect(Object.keys(doc.paths['/rest/v1/events']?.get?.responses['200']?.content ?? {})).toEqual([
      'text/event-stream',
    ]);
  });

  it('lets the server shut down while streams are open', async () => {
    const other = await createTestServer();
    const otherUrl = await other.app.listen({ port: 0, host: '127.0.0.1' });
    const headers = await other.login('admin', ADMIN_PASSWORD);
    const streams = await Promise.all([1, 2, 3].map(() => fetch(`${otherUrl}/rest/v1/events`, { headers })));
    const ended = streams.map((r) => readEvents(r, () => false));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await Promise.all(ended)).toEqual([[], [], []]);
  });
});
