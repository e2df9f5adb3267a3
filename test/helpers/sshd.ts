/**
 * A real OpenSSH server for SFTP tests: Debian's sshd (installed by .ci/run) started as the current
 * user (root) with `sshd -D -e -f <config>` on a free local port, with a generated host key and
 * generated user keys in a temp folder, and killed at teardown.
 *
 * sshd checks passwords against the system's accounts only (there is no password file of its own, and
 * a PAM service of our own would mean editing /etc/pam.d). So password tests use a user this helper
 * creates with `useradd` (as root only) under a random name, and removes with `userdel` when the server
 * stops (or when the test process exits). Key tests log in as the current user.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';

const SSHD = '/usr/sbin/sshd';

export interface PasswordUser {
  username: string;
  password: string;
  /** The user's home (the SFTP login folder), owned by the user. */
  home: string;
}

export interface SshServer {
  host: string;
  port: number;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it. */
  hostKey: string;
  /** The fingerprint of another key, for a pin that does not match. */
  otherHostKey: string;
  /** The current user, who logs in with `privateKey` (or `lockedKey` and its passphrase). */
  username: string;
  privateKey: string;
  lockedKey: string;
  passphrase: string;
  /** A folder for the tests' files, readable and writable by the current user. */
  dir: string;
  passwordUser(): PasswordUser;
  /** The sshd processes serving open connections (the listener's descendants). */
  sessionPids(): number[];
  /** Kills every session process with SIGKILL: each open connection drops as if the network failed. */
  killSessions(): number;
  output(): string;
  stop(): Promise<void>;
}

function keygen(file: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', '', '-f', file]);
}

function fingerprint(pub: string): string {
  const line = execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' });
  const fp = line.split(' ')[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -lf output: ${line}`);
  return fp;
}

function children(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when there are none
  }
  const direct = out.split('\n').filter(Boolean).map(Number);
  return direct.flatMap((c) => [c, ...children(c)]);
}

export async function startSshd(): Promise<SshServer> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (bash .ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'integrator-sshd-'));
  // The password user's home lies inside: it must be able to reach it, not the keys.
  chmodSync(dir, 0o755);
  const keys = join(dir, 'keys');
  mkdirSync(keys, { mode: 0o700 });
  keygen(join(keys, 'host'));
  keygen(join(keys, 'other'));
  keygen(join(keys, 'user'));
  const passphrase = `pp-${randomBytes(6).toString('hex')}`;
  keygen(join(keys, 'locked'), passphrase);
  writeFileSync(
    join(keys, 'authorized_keys'),
    readFileSync(join(keys, 'user.pub'), 'utf8') + readFileSync(join(keys, 'locked.pub'), 'utf8'),
  );
  const data = join(dir, 'data');
  mkdirSync(data);
  // sshd running as root wants its privilege separation folder, which only its init script creates.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(keys, 'host')}`,
      'PidFile none',
      `AuthorizedKeysFile ${join(keys, 'authorized_keys')}`,
      // The temp folders are not laid out as sshd's checks of a home folder expect.
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'Subsystem sftp internal-sftp',
      'LogLevel INFO',
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  proc.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('Server listening')) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const pid = proc.pid ?? 0;
  let user: PasswordUser | undefined;
  const dropUser = (): void => {
    if (!user) return;
    try {
      execFileSync('userdel', [user.username], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
    user = undefined;
  };
  process.once('exit', dropUser);
  return {
    host: '127.0.0.1',
    port,
    hostKey: fingerprint(join(keys, 'host.pub')),
    otherHostKey: fingerprint(join(keys, 'other.pub')),
    username: userInfo().username,
    privateKey: readFileSync(join(keys, 'user'), 'utf8'),
    lockedKey: readFileSync(join(keys, 'locked'), 'utf8'),
    passphrase,
    dir: data,
    passwordUser() {
      if (user) return user;
      if (process.getuid?.() !== 0) throw new Error('password tests create a user, which needs root');
      const username = `itsftp${randomBytes(4).toString('hex')}`;
      const password = `pw-${randomBytes(9).toString('base64url')}`;
      const home = join(dir, username);
      execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', username]);
      user = { username, password, home };
      execFileSync('chpasswd', { input: `${username}:${password}\n` });
      mkdirSync(home);
      const uid = Number(execFileSync('id', ['-u', username], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', username], { encoding: 'utf8' }).trim());
      chownSync(home, uid, gid);
      return user;
    },
    sessionPids: () => children(pid),
    killSessions() {
      const pids = children(pid);
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // Ended meanwhile.
        }
      }
      return pids.length;
    },
    output: () => out,
    async stop() {
      for (const p of children(pid)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // Ended meanwhile.
        }
      }
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      dropUser();
      process.removeListener('exit', dropUser);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
