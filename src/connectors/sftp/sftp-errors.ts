/** SFTP status codes (draft-ietf-secsh-filexfer-02) that have a local errno equivalent. */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

/**
 * An SFTP request's failure as a local one would read: `code` 'ENOENT' for a missing file (which path
 * confinement relies on), 'EACCES' for a refusal, and the server's words with the request and path.
 */
export function sftpError(err: unknown, what: string, p: string): Error {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  const reason = err instanceof Error ? err.message : String(err);
  const out = new Error(p ? `${what} '${p}' on the SFTP server failed: ${reason}` : `${what}: ${reason}`, {
    cause: err,
  });
  if (code === NO_SUCH_FILE || code === 'ENOENT') Object.assign(out, { code: 'ENOENT' });
  else if (code === PERMISSION_DENIED || code === 'EACCES') Object.assign(out, { code: 'EACCES' });
  return out;
}

export function isMissing(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === NO_SUCH_FILE);
}
