import type { ConnectorPool } from '../connections/connector-pool.js';
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
  /** Called as rows move, for live progress (CLI progress line, runs API). */
  progress(stats: StepStats): void;
}
