import type { ConnectorPool } from '../connections/connector-pool.js';
import type { CommitMark } from '../connectors/commit-ledger.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { TransformRegistry } from '../transforms/transform-registry.js';
import type { FlowIo, StepStats } from './engine-types.js';

/** What a step needs from the run executing it. */
export interface StepEnv {
  pool: ConnectorPool;
  formats: FormatRegistry;
  transforms: TransformRegistry;
  params: Record<string, string | number | boolean | null>;
  signal: AbortSignal;
  io: FlowIo | undefined;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /**
   * What this step's destination commit is for, when the run may execute again (see commit-ledger.ts);
   * `recheck`: it may have committed already, so the destination is asked first.
   */
  commit?: CommitMark & { recheck: boolean };
  /** The run executing (for destination templates that name it) and this step's index. */
  runId?: string;
  step?: number;
  /** Called as rows move, for live progress (CLI progress line, runs API). */
  progress(stats: StepStats): void;
}
