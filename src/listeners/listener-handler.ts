import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditInput } from '../audit/audit-event.js';
import type { Context } from '../context.js';
import { AppError, errorMessage, forbidden, runFailureStatus } from '../core/errors.js';
import type { RawParams } from '../flows/engine-types.js';
import { resolveParameters } from '../flows/parameters.js';
import { stringifyJson } from '../formats/json-exact.js';
import type { Run, RunIo, RunRequest } from '../runs/run-types.js';
import { applyCors, originRefused, preflight } from './cors.js';
import { type Caller, ListenerAuth } from './listener-auth.js';
import type { CompiledListener, ListenerRouter } from './listener-router.js';
import type { ListenerMethod, ListenerSpec } from './listener-schema.js';
import type { PayloadQueue } from './payload-queue.js';
import type { PayloadStore } from './payload-store.js';
import { chooseFormat, readRequestBody } from './request-body.js';
import { type RowsOutcome, respondWithRows } from './response-rows.js';
import { DEFAULT_ERROR_BODY, DEFAULT_SYNC_BODY, renderTemplate } from './response-template.js';
import { type KeyedSyncRun, keyedSyncRun } from './sync-keys.js';

const BODYLESS = new Set(['GET', 'DELETE']);
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** What the audit trail keeps of one call (never the payload). */
interface CallFacts {
  listener?: string;
  caller?: Caller;
  runId?: string;
  messageId?: string;
  /** The status of the error the call failed with, for a caller that is gone before it is answered. */
  errorStatus?: number;
  /** Recorded already, with the run the call started. */
  audited?: boolean;
}

/** The status and body a sync call answers with. */
interface Answer {
  status: number;
  /** An object Fastify serializes, or JSON text already written (a row, whose numbers must stay exact). */
  body: unknown;
  json?: true;
}

/**
 * Serves every listener call: finds the listener by path, answers CORS preflights, checks the method,
 * authenticates as the listener asks, turns path and query into flow parameters, and then pushes the
 * body into the flow (sync or async) or pulls the flow's rows into the response. Every call is audited
 * with its run.
 */
export class ListenerHandler {
  private readonly auth: ListenerAuth;

  constructor(
    private readonly ctx: Context,
    private readonly router: ListenerRouter,
    private readonly payloads: PayloadStore,
    private readonly queue: PayloadQueue,
  ) {
    this.auth = new ListenerAuth(ctx.auth, ctx.audit, ctx.extensions.listenerAuth);
  }

  async handle(request: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> {
    const started = performance.now();
    const facts: CallFacts = {};
    this.ctx.calls.enter();
    try {
      const match = await this.router.match(path);
      if (!match) {
        const principal = await this.auth.identify(request);
        facts.caller = { login: principal.login, principal };
        throw new AppError('NOT_FOUND', `No listener at /${path.replace(/^\/+/, '')}`);
      }
      const { listener } = match;
      facts.listener = listener.name;
      const spec = listener.spec;
      if (request.method === 'OPTIONS') return preflight(request, reply, spec);
      if (originRefused(request, spec)) throw forbidden('This origin may not call this listener');
      applyCors(request, reply, spec);
      if (!(spec.methods as readonly string[]).includes(request.method)) {
        throw new AppError('METHOD_NOT_ALLOWED', `This listener accepts ${spec.methods.join(', ')}`, {
          headers: { allow: spec.methods.join(', ') },
        });
      }
      facts.caller = await this.auth.authenticate(request, spec);
      const params = { ...queryParams(request.query), ...match.params };
      const run: RunRequest = {
        flow: spec.flow,
        params,
        trigger: 'listener',
        requestedBy: facts.caller.login,
        clientIp: request.ip,
      };
      await this.checkParameters(spec.flow, params);
      return spec.mode === 'async'
        ? await this.accept(request, reply, listener, run, facts, started)
        : await this.runNow(request, reply, listener, run, facts, started);
    } catch (err) {
      facts.errorStatus = err instanceof AppError ? err.status : 500;
      throw err;
    } finally {
      this.ctx.calls.leave();
      this.audit(request, reply, facts, started);
    }
  }

  /** Bad or missing parameters are the caller's mistake: 400 naming the parameter, and no run. */
  private async checkParameters(flow: string, params: RawParams): Promise<void> {
    const spec = await this.ctx.engine.load(flow).catch((err: unknown) => {
      throw err instanceof AppError && err.code === 'NOT_FOUND'
        ? new AppError('FLOW_FAILED', `The flow of this listener does not exist: ${err.message}`)
        : err;
    });
    resolveParameters(spec.parameters, params);
  }

  private async runNow(
    request: FastifyRequest,
    reply: FastifyReply,
    listener: CompiledListener,
    req: RunRequest,
    facts: CallFacts,
    started: number,
  ): Promise<FastifyReply> {
    const spec = listener.spec;
    let rows: RowsOutcome | undefined;
    let answer: Answer | undefined;
    const io: RunIo = {
      response: (stream) =>
        respondWithRows(this.ctx.extensions.formats, request, reply, spec, stream, (o) => (rows = o)),
      // The call and its run are one audit event, committed with the run's record: decide the answer
      // here, so the event carries the status the caller gets.
      endEvent: (run) => {
        answer = reply.sent ? undefined : this.answer(request, spec, req, run, rows);
        facts.runId = run.id;
        facts.audited = true;
        const status = reply.sent ? reply.statusCode : reply.raw.destroyed ? 499 : (answer?.status ?? 500);
        return this.callEvent(request, facts, status, started, run);
      },
    };
    if (spec.response?.single) io.responseRows = 1;
    const key = BODYLESS.has(request.method) ? undefined : idempotencyKey(request);
    if (!BODYLESS.has(request.method))
      io.requestRows = (await readRequestBody(this.ctx.extensions.formats, request.raw, spec, false)).rows;
    // The key is taken once the body is known to be readable: a call refused for its body is no call.
    let keyed: Exclude<KeyedSyncRun, { replay: Run }> | undefined;
    if (key !== undefined) {
      const decided = await keyedSyncRun(
        this.ctx.listeners.keys,
        this.ctx.runs,
        listener.name,
        key,
        this.ctx.settings.runLeaseSeconds * 1000,
      );
      if ('replay' in decided) {
        // The first call's run succeeded: answer its outcome again, run nothing.
        facts.runId = decided.replay.id;
        const again = this.answer(request, spec, req, decided.replay, undefined);
        return reply.code(again.status).header('idempotent-replayed', 'true').send(again.body);
      }
      keyed = decided;
    }
    const run = keyed ? await this.ctx.runs.runSyncAs(req, io, keyed) : await this.ctx.runs.runSync(req, io);
    facts.runId = run.id;
    if (reply.sent) return reply;
    answer ??= this.answer(request, spec, req, run, rows);
    if (answer.json) reply.type('application/json; charset=utf-8');
    return reply.code(answer.status).send(answer.body);
  }

  /** What a sync call answers once its run has ended (unless the rows were streamed already). */
  private answer(
    request: FastifyRequest,
    spec: ListenerSpec,
    req: RunRequest,
    run: Run,
    rows: RowsOutcome | undefined,
  ): Answer {
    // The template placeholders; a data API answering one row needs none of them.
    const values = () => ({ ...req.params, ...runFacts(run), requestId: request.id });
    if (run.status !== 'succeeded') {
      // A record that does not fit the target is the caller's to fix (422); anything else is ours.
      return {
        status: spec.error?.status ?? runFailureStatus(run.errorCode),
        body: renderTemplate(spec.error?.body ?? DEFAULT_ERROR_BODY, {
          ...values(),
          error: run.error ?? run.status,
          errorCode: run.errorCode ?? 'FLOW_FAILED',
        }),
      };
    }
    if (rows?.kind === 'single') {
      if (rows.row === undefined) {
        return {
          status: spec.response?.notFoundStatus ?? 404,
          body: {
            error: { code: 'NOT_FOUND', message: 'No record matches', requestId: request.id, runId: run.id },
          },
        };
      }
      // Decimal and bigint values as JSON numbers with every digit (Fastify's serializer knows neither).
      return { status: spec.response?.status ?? 200, body: stringifyJson(rows.row), json: true };
    }
    return {
      status: spec.response?.status ?? 200,
      body: renderTemplate(spec.response?.body ?? DEFAULT_SYNC_BODY, values()),
    };
  }

  private async accept(
    request: FastifyRequest,
    reply: FastifyReply,
    listener: CompiledListener,
    req: RunRequest,
    facts: CallFacts,
    started: number,
  ): Promise<FastifyReply> {
    const spec = listener.spec;
    if (this.queue.waiting() >= spec.queueLimit) {
      throw new AppError(
        'TOO_MANY_REQUESTS',
        `The queue holds ${spec.queueLimit} payloads already; retry later`,
        {
          headers: { 'retry-after': '1' },
        },
      );
    }
    const key = idempotencyKey(request);
    const payload = BODYLESS.has(request.method)
      ? {
          format: chooseFormat(this.ctx.extensions.formats, spec, 'application/json'),
          bytes: Buffer.alloc(0),
        }
      : await readRequestBody(this.ctx.extensions.formats, request.raw, spec, true);
    const status = spec.response?.status ?? 202;
    const receipt = await this.payloads.accept(
      {
        listener: listener.name,
        idempotencyKey: key,
        format: payload.format,
        body: payload.bytes ?? Buffer.alloc(0),
        run: req,
      },
      // The call's audit event commits with the payload and its queued run.
      (r) => this.callEvent(request, { ...facts, runId: r.runId, messageId: r.messageId }, status, started),
    );
    facts.runId = receipt.runId;
    facts.messageId = receipt.messageId;
    // A repeated key stored nothing and recorded nothing: its call is audited like any other.
    if (!receipt.duplicate) {
      this.queue.accepted();
      facts.audited = true;
    }
    const { duplicate: _d, ...body } = receipt;
    return reply
      .code(status)
      .header('location', `/rest/v1/runs/${receipt.runId}`)
      .send(
        spec.response?.body === undefined
          ? body
          : renderTemplate(spec.response.body, { ...req.params, ...body }),
      );
  }

  private audit(request: FastifyRequest, reply: FastifyReply, facts: CallFacts, started: number): void {
    if (facts.audited) return;
    // The status is final once the handler has sent or thrown; thrown errors are mapped to theirs here.
    const done = (status: number) =>
      void this.ctx.audit
        .record(this.callEvent(request, facts, status, started))
        .catch((err: unknown) =>
          this.ctx.logger.error({ err: errorMessage(err) }, 'audit of listener call failed'),
        );
    if (reply.sent) done(reply.statusCode);
    // The caller went away (mid-body, say): nothing will be sent, but the call is audited all the same.
    else if (reply.raw.destroyed) done(facts.errorStatus ?? 499);
    else reply.raw.once('close', () => done(reply.sent ? reply.statusCode : (facts.errorStatus ?? 499)));
  }

  /** The audit event of one call (never the payload); with the run it started, when it ran one. */
  private callEvent(
    request: FastifyRequest,
    facts: CallFacts,
    status: number,
    started: number,
    run?: Run,
  ): AuditInput {
    return {
      action: 'listener.called',
      outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
      actor: facts.caller?.login ?? null,
      target: facts.listener ?? null,
      clientIp: request.ip,
      durationMs: performance.now() - started,
      details: {
        method: request.method as ListenerMethod,
        path: request.url.split('?')[0],
        status,
        ...(facts.runId ? { runId: facts.runId } : {}),
        ...(facts.messageId ? { messageId: facts.messageId } : {}),
        ...(run
          ? {
              runStatus: run.status,
              rowsRead: run.rowsRead,
              rowsWritten: run.rowsWritten,
              ...(run.error ? { error: run.error } : {}),
            }
          : {}),
      },
    };
  }
}

function runFacts(run: Run): Record<string, unknown> {
  return {
    runId: run.id,
    status: run.status,
    rowsRead: run.rowsRead,
    rowsWritten: run.rowsWritten,
    durationMs: run.durationMs,
  };
}

/** The call's Idempotency-Key, if it sent one; BAD_REQUEST when it is not 1-200 visible ASCII characters. */
function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)))
    throw new AppError('BAD_REQUEST', 'Idempotency-Key must be 1-200 visible ASCII characters');
  return key;
}

/** Query parameters become flow parameters, except the credential. */
function queryParams(query: unknown): RawParams {
  const params: RawParams = {};
  if (typeof query !== 'object' || query === null) return params;
  for (const [k, v] of Object.entries(query)) {
    if (k === 'Authorization' || k === 'authorization') continue;
    if (Array.isArray(v)) throw new AppError('PARAMETER_INVALID', `parameter '${k}' is given more than once`);
    if (typeof v === 'string') params[k] = v;
  }
  return params;
}
