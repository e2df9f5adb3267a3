import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { AppError } from '../core/errors.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';
import { RUN_EVENT_TYPES, type RunEvent, type RunEventType, summary } from './run-events.js';
import type { Run } from './run-types.js';

/** Open event streams per process; more are refused (429) rather than let clients exhaust memory. */
const MAX_STREAMS = 200;
/** Bytes a stream may hold unsent before it is closed: a client that stopped reading does not pile up. */
const MAX_UNSENT = 1024 * 1024;
const HEARTBEAT_MS = 15_000;
const FINAL = new Set<Run['status']>(['succeeded', 'failed', 'cancelled']);

const EventsQuery = Type.Object({
  runId: Type.Optional(Type.String({ description: 'Only this run; the stream starts with its state' })),
  flow: Type.Optional(Type.String({ description: 'Only runs of this flow' })),
  types: Type.Optional(
    Type.String({ description: `Comma-separated event types (default all): ${RUN_EVENT_TYPES.join(', ')}` }),
  ),
});

/**
 * `GET /rest/v1/events`: server-sent events of the runs this process queues and executes, so a console
 * or client watches progress without polling. Progress and log events are the ones dropped while a
 * client reads slower than they come; queued, started and finished events are always sent.
 */
export function eventsRoutes(app: App, ctx: Context): void {
  const open = new Set<() => void>();
  // Streams never end by themselves: end them before the server waits for its connections to close.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
  app.get(
    '/rest/v1/events',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'Live run events (server-sent events)',
        description:
          'A `text/event-stream` of `run.queued`, `run.started`, `run.progress` (at most four a second per run), `run.log` and `run.finished` events; `data` is JSON: the run without its parameters and log, or `{runId, flow, line}` for `run.log`. With `runId` the stream opens with a `run.state` event and ends after the run finishes. A comment line every 15 s keeps proxies from closing it. Covers the runs of the process that answers.',
        querystring: EventsQuery,
        response: {
          200: {
            description: 'The event stream',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...authErrors,
          ...errorResponses(404, 429),
        },
      },
    },
    async (request, reply) => {
      const { runId, flow } = request.query;
      const types = wantedTypes(request.query.types);
      if (open.size >= MAX_STREAMS)
        throw new AppError('TOO_MANY_REQUESTS', `at most ${MAX_STREAMS} event streams may be open at once`);
      const initial = runId === undefined ? undefined : await ctx.runs.get(runId);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      });
      const stream = new EventStream(res);
      const close = () => {
        unsubscribe();
        clearInterval(heartbeat);
        open.delete(close);
        stream.end();
      };
      const unsubscribe = ctx.runs.events.subscribe((event) => {
        const id = event.type === 'run.log' ? event.runId : event.run.id;
        const of = event.type === 'run.log' ? event.flow : event.run.flow;
        if ((runId !== undefined && id !== runId) || (flow !== undefined && of !== flow)) return;
        if (!types.has(event.type)) return;
        if (
          !stream.send(event.type, payload(event), event.type === 'run.progress' || event.type === 'run.log')
        )
          close();
        else if (runId !== undefined && event.type === 'run.finished') close();
      });
      const heartbeat = setInterval(() => stream.comment('keep-alive'), HEARTBEAT_MS);
      heartbeat.unref();
      open.add(close);
      res.on('close', close);
      res.on('error', close);
      stream.comment('connected');
      if (initial) {
        stream.send('run.state', summary(initial), false);
        if (FINAL.has(initial.status)) close();
      }
    },
  );
}

function wantedTypes(text: string | undefined): Set<RunEventType> {
  if (text === undefined || text === '') return new Set(RUN_EVENT_TYPES);
  const out = new Set<RunEventType>();
  for (const t of text.split(',').map((s) => s.trim())) {
    if (!(RUN_EVENT_TYPES as readonly string[]).includes(t))
      throw new AppError(
        'VALIDATION_FAILED',
        `types: '${t}' is not an event type (${RUN_EVENT_TYPES.join(', ')})`,
        {
          details: [{ path: '/types', message: `unknown event type '${t}'` }],
        },
      );
    out.add(t as RunEventType);
  }
  return out;
}

function payload(event: RunEvent): unknown {
  return event.type === 'run.log' ? { runId: event.runId, flow: event.flow, line: event.line } : event.run;
}

/** One client's stream: numbered events, comments, and what to do when the client reads slowly. */
class EventStream {
  private seq = 0;
  private dropped = 0;

  constructor(private readonly res: ServerResponse) {}

  /**
   * Writes an event; one that may be dropped is left out while the socket's buffer is not empty.
   * Returns false when the client has let too much pile up and the stream should end.
   */
  send(type: string, data: unknown, droppable: boolean): boolean {
    if (this.res.writableEnded) return false;
    if (droppable && this.res.writableNeedDrain) {
      this.dropped++;
      return true;
    }
    if (this.res.writableLength > MAX_UNSENT) return false;
    this.seq++;
    const skipped = this.dropped > 0 ? `: ${this.dropped} progress or log events left out\n` : '';
    this.dropped = 0;
    this.res.write(`${skipped}id: ${this.seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    return true;
  }

  comment(text: string): void {
    if (!this.res.writableEnded) this.res.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
