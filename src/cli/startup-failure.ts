import type { Settings } from '../config.js';
import { AppError, errorMessage } from '../core/errors.js';

/**
 * The one line `integrator start` prints when the server cannot start: what failed, named by the
 * setting to change. Errors that already name their setting (INVALID_SETTING, STORE_UNAVAILABLE) keep
 * their message; the listening socket's errors are translated from Node's codes.
 */
export function startupFailure(err: unknown, settings: Settings | undefined): string {
  if (err instanceof AppError) return err.message;
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  const where = settings ? `port ${settings.port} on ${settings.host}` : 'the port';
  switch (code) {
    case 'EADDRINUSE':
      return `${where} is already in use by another process (INTEGRATOR_PORT, INTEGRATOR_HOST)`;
    case 'EACCES':
      return `no permission to listen on ${where}: ports below 1024 need privileges (INTEGRATOR_PORT)`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on ${settings?.host ?? 'the host'}: not an address of this machine (INTEGRATOR_HOST)`;
    default:
      return errorMessage(err);
  }
}
