import type { ConnectorPool } from '../connections/connector-pool.js';
import { AppError } from '../core/errors.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import type { DefinitionService } from '../definitions/definition-service.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { TransformRegistry } from '../transforms/transform-registry.js';
import type { CommitIdentity, FlowIo, LogLine, RawParams, StepStats } from './engine-types.js';
import { flowKind } from './flow-kind.js';
import type { FlowSpec, PipelineFlowSpec, SqlFlowSpec } from './flow-schema.js';
import { resolveParameters } from './parameters.js';
import type { StepEnv } from './step-env.js';
import { runTransferStep } from './transfer-step.js';

export interface ExecuteOptions {
  params: RawParams;
  signal: AbortSignal;
  io?: FlowIo | undefined;
  /** Records each transfer step's commit in its destination (see CommitIdentity). */
  commit?: CommitIdentity | undefined;
  /** The run's id, for destination templates that name it (`{run_id}`). */
  runId?: string | undefined;
  log(line: LogLine): void;
  progress(steps: StepStats[]): void;
  /** Runs another flow as a child of this run (pipelines); returns whether it succeeded. */
  runChild(
    flow: string,
    params: RawParams,
  ): Promise<{ ok: boolean; error?: string | null; rowsRead: number; rowsWritten: number }>;
}

export interface ExecuteResult {
  steps: StepStats[];
  rowsRead: number;
  rowsWritten: number;
}

/**
 * Executes a flow definition. Knows nothing of HTTP or of run records: the run service wraps it with
 * bookkeeping, queues and audit. Throws on failure; the steps done so far are in `onProgress`.
 */
export class FlowEngine {
  private readonly flows: DefinitionKind<FlowSpec>;

  constructor(
    private readonly definitions: DefinitionService,
    private readonly pool: ConnectorPool,
    private readonly extensions: { formats: FormatRegistry; transforms: TransformRegistry },
  ) {
    this.flows = flowKind(extensions);
  }

  /** Validated flows by name and version: a flow is checked once per version, not once per run. */
  private readonly validated = new Map<string, { version: number; spec: FlowSpec }>();

  async load(name: string): Promise<FlowSpec> {
    const def = await this.definitions.find('flow', name);
    if (!def) throw new AppError('NOT_FOUND', `Flow '${name}' does not exist`);
    const hit = this.validated.get(name);
    if (hit && hit.version === def.version) return hit.spec;
    const spec = await this.flows.validate(def.spec, name);
    this.validated.set(name, { version: def.version, spec });
    return spec;
  }

  /**
   * What the destinations recorded of a run (see commit-ledger.ts): the steps as committed, when every
   * step of a transfer flow committed and its destination says so; undefined otherwise (a step not
   * committed, a destination without a ledger, another kind of flow). Crash recovery asks before it
   * runs an interrupted run again.
   */
  async recorded(spec: FlowSpec, runId: string): Promise<ExecuteResult | undefined> {
    if (spec.type !== 'transfer') return undefined;
    const steps: StepStats[] = [];
    for (const [i, step] of spec.steps.entries()) {
      if (step.to.connection.startsWith('@')) return undefined;
      const target = await this.pool.get(step.to.connection);
      const commit = await target.commits?.find(runId, i);
      if (!commit) return undefined;
      steps.push({
        name: step.name ?? `step ${i + 1}`,
        status: 'succeeded',
        rowsRead: commit.rowsWritten,
        rowsWritten: commit.rowsWritten,
      });
    }
    const rowsWritten = steps.reduce((n, s) => n + s.rowsWritten, 0);
    return { steps, rowsRead: rowsWritten, rowsWritten };
  }

  async execute(spec: FlowSpec, opts: ExecuteOptions): Promise<ExecuteResult> {
    const params = resolveParameters(spec.parameters, opts.params);
    const steps: StepStats[] = [];
    const log = (level: LogLine['level'], message: string) =>
      opts.log({ at: new Date().toISOString(), level, message });
    const env: StepEnv = {
      pool: this.pool,
      formats: this.extensions.formats,
      transforms: this.extensions.transforms,
      params,
      signal: opts.signal,
      io: opts.io,
      ...(opts.runId ? { runId: opts.runId } : {}),
      log,
      progress: () => opts.progress(steps),
    };
    const total = () => ({
      steps,
      rowsRead: steps.reduce((n, s) => n + s.rowsRead, 0),
      rowsWritten: steps.reduce((n, s) => n + s.rowsWritten, 0),
    });
    switch (spec.type) {
      case 'transfer':
        for (const [i, step] of spec.steps.entries()) {
          if (opts.signal.aborted) break;
          const placeholder: StepStats = {
            name: step.name ?? `step ${i + 1}`,
            status: 'running',
            rowsRead: 0,
            rowsWritten: 0,
          };
          steps.push(placeholder);
          const done = await runTransferStep(step, i, {
            ...env,
            step: i,
            ...(opts.commit
              ? {
                  commit: {
                    runId: opts.commit.runId,
                    step: i,
                    attempt: opts.commit.attempt,
                    recheck: opts.commit.recheck,
                  },
                }
              : {}),
            progress: (s) => {
              steps[i] = s;
              opts.progress(steps);
            },
          });
          steps[i] = done;
        }
        return total();
      case 'sql':
        steps.push(await this.runSql(spec, env));
        return total();
      case 'pipeline':
        await this.runPipeline(spec, params, steps, opts, log);
        return total();
    }
  }

  private async runSql(spec: SqlFlowSpec, env: StepEnv): Promise<StepStats> {
    const started = performance.now();
    const stats: StepStats = {
      name: 'sql',
      status: 'running',
      rowsRead: 0,
      rowsWritten: 0,
      path: 'sql',
      startedAt: new Date().toISOString(),
    };
    const connector = await this.pool.get(spec.connection);
    try {
      const { rowsAffected } = await connector.execute(spec.sql, env.params, env.signal);
      stats.rowsWritten = rowsAffected;
      stats.status = 'succeeded';
      env.log('info', `sql: ${rowsAffected} rows affected`);
      return stats;
    } finally {
      stats.durationMs = Math.round(performance.now() - started);
    }
  }

  private async runPipeline(
    spec: PipelineFlowSpec,
    params: Record<string, unknown>,
    steps: StepStats[],
    opts: ExecuteOptions,
    log: (level: LogLine['level'], message: string) => void,
  ): Promise<void> {
    const failures: string[] = [];
    for (const child of spec.flows) {
      if (opts.signal.aborted) break;
      const childParams: RawParams = {};
      for (const [k, v] of Object.entries(params)) {
        if (v === null || ['string', 'number', 'boolean'].includes(typeof v))
          childParams[k] = v as string | number | boolean | null;
      }
      Object.assign(childParams, child.parameters ?? {});
      const started = performance.now();
      const result = await opts.runChild(child.flow, childParams);
      steps.push({
        name: child.flow,
        status: result.ok ? 'succeeded' : 'failed',
        rowsRead: result.rowsRead,
        rowsWritten: result.rowsWritten,
        path: 'flow',
        durationMs: Math.round(performance.now() - started),
        ...(result.error ? { error: result.error } : {}),
      });
      opts.progress(steps);
      if (!result.ok) {
        failures.push(`${child.flow}: ${result.error ?? 'failed'}`);
        log('error', `flow ${child.flow} failed: ${result.error ?? ''}`);
        if ((spec.onError ?? 'stop') === 'stop') break;
      }
    }
    if (failures.length > 0) throw new AppError('FLOW_FAILED', `pipeline failed: ${failures.join('; ')}`);
  }
}
