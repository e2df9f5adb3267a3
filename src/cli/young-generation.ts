import { setFlagsFromString } from 'node:v8';

/** V8's own default (`node --v8-options`). */
const DEFAULT_GROWTH_FACTOR = 2;

/**
 * Keeps V8's young generation at its initial size while the server starts, and lets it grow again
 * once it is serving. Loading and compiling the modules makes V8 double the young generation a few
 * times (to 16 MB per semi-space, 32 MB of RSS), and an idle process never gives that back; a young
 * generation sized by the work the server then does costs only as much as that work needs. Returns the
 * function that lets it grow again. Does nothing when the process was given its own young-generation
 * settings (NODE_OPTIONS or the command line).
 */
export function holdYoungGeneration(): () => void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /semi[-_]space/.test(a));
  if (given) return () => undefined;
  setFlagsFromString('--semi-space-growth-factor=1');
  return () => setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
}
