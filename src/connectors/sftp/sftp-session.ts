/**
 * One SSH connection with its SFTP channel: connected, host key checked against the pin, authenticated.
 * Every 'error' event of the client is handled here, so a dropped connection fails the operation that
 * was using it and never the process.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import ssh2, { type SFTPWrapper } from 'ssh2';
import { AppError, errorMessage } from '../../core/errors.js';
import { cancelledError } from '../abort.js';
import type { SftpConfig } from './sftp-config.js';

const { Client } = ssh2;

/** The fingerprint of a host key blob as `ssh-keygen -lf` prints it: SHA256: and unpadded base64. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function samePin(seen: string, pinned: string): boolean {
  const a = Buffer.from(seen);
  const b = Buffer.from(pinned);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface SftpSession {
  readonly sftp: SFTPWrapper;
  /** `user@host:port`, for messages. */
  readonly where: string;
  /** Why the connection ended, once it has (an error, or the server closing it); undefined while it is up. */
  lost(): string | undefined;
  /** Ends the connection; safe to call more than once. */
  close(): void;
}

/** Why ssh2 could not use the private key (it parses the key itself, as connect starts). */
function keyProblem(config: SftpConfig, err: unknown): AppError {
  const hint = config.passphrase === undefined ? ' (is it protected by a passphrase?)' : '';
  return new AppError(
    'CONNECTION_FAILED',
    `sftp connection: /privateKey cannot be used: ${errorMessage(err).replace(/^Cannot parse privateKey: /, '')}${hint}`,
  );
}

/** Opens a session; rejects with CONNECTION_FAILED naming the reason (unreachable, host key, credentials). */
export function openSftpSession(config: SftpConfig, signal?: AbortSignal): Promise<SftpSession> {
  const where = `${config.username}@${config.host}:${config.port}`;
  const client = new Client();
  let seenKey: string | undefined;
  let keyRefused = false;
  let lostReason: string | undefined;
  let ready = false;
  return new Promise<SftpSession>((resolve, reject) => {
    const fail = (message: string): void => {
      client.end();
      reject(new AppError('CONNECTION_FAILED', message));
    };
    const onAbort = (): void => {
      if (!ready) {
        client.end();
        reject(cancelledError());
      }
      client.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', (err: Error & { level?: string }) => {
      if (ready) {
        lostReason ??= errorMessage(err);
        return;
      }
      signal?.removeEventListener('abort', onAbort);
      if (keyRefused) {
        fail(
          `The host key of ${config.host}:${config.port} is ${seenKey}, not the pinned ${config.hostKey}: refusing to connect (update hostKey only if the server's key was changed on purpose)`,
        );
      } else if (err.level === 'client-authentication') {
        const tried = [
          config.privateKey === undefined ? '' : 'private key',
          config.password === undefined ? '' : 'password',
        ];
        fail(`${where} refused the ${tried.filter(Boolean).join(' and the ')}`);
      } else if (err.level === 'client-timeout') {
        fail(`Connecting to ${where} timed out after ${config.connectTimeout} s`);
      } else {
        fail(`Cannot connect to ${where}: ${errorMessage(err)}`);
      }
    });
    client.on('close', () => {
      lostReason ??= 'the server closed the connection';
      if (!ready) {
        signal?.removeEventListener('abort', onAbort);
        reject(new AppError('CONNECTION_FAILED', `Cannot connect to ${where}: the connection was closed`));
      }
    });
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          fail(`${where} offers no SFTP: ${errorMessage(err)}`);
          return;
        }
        ready = true;
        // A channel error surfaces through the request that was waiting on it; this keeps it handled.
        sftp.on('error', (e: Error) => {
          lostReason ??= errorMessage(e);
        });
        sftp.on('close', () => {
          lostReason ??= 'the server closed the SFTP channel';
        });
        resolve({
          sftp,
          where,
          lost: () => lostReason,
          close: () => {
            lostReason ??= 'closed';
            client.end();
          },
        });
      });
    });
    const key =
      config.privateKey === undefined
        ? {}
        : {
            privateKey: config.privateKey,
            ...(config.passphrase === undefined ? {} : { passphrase: config.passphrase }),
          };
    try {
      client.connect({
        host: config.host,
        port: config.port,
        username: config.username,
        ...(config.password === undefined ? {} : { password: config.password }),
        ...key,
        readyTimeout: config.connectTimeout * 1000,
        keepaliveInterval: config.keepaliveInterval * 1000,
        keepaliveCountMax: config.keepaliveCountMax,
        hostVerifier: (hostKey: Buffer): boolean => {
          seenKey = hostKeyFingerprint(hostKey);
          if (config.hostKey === undefined || samePin(seenKey, config.hostKey)) return true;
          keyRefused = true;
          return false;
        },
      });
    } catch (err) {
      // ssh2 refuses a key it cannot parse (or decrypt) before it connects.
      signal?.removeEventListener('abort', onAbort);
      reject(keyProblem(config, err));
    }
  });
}
