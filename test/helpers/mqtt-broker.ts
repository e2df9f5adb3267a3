/**
 * For MQTT fault tests that must not disturb the shared Mosquitto on 1883: a private Mosquitto (the same
 * binary) on free ports with settings the shared one does not have, and a TCP proxy in front of any
 * broker whose connections a test can cut.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';

export interface PrivateMosquitto {
  /** A listener that refuses every client (allow_anonymous false, no password file). */
  refusingPort: number;
  /**
   * An anonymous listener. The broker refuses a payload above `messageSizeLimit` bytes (with PUBACK 149)
   * and announces `maxPacketSize` as its Maximum Packet Size (it closes a connection that sends more).
   */
  openPort: number;
  stop(): Promise<void>;
}

async function waitForPort(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited ${proc.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPrivateMosquitto(limits: {
  messageSizeLimit: number;
  maxPacketSize: number;
}): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'integrator-mosquitto-'));
  const refusingPort = await freePort();
  const openPort = await freePort();
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      'per_listener_settings true',
      'persistence false',
      `message_size_limit ${limits.messageSizeLimit}`,
      `max_packet_size ${limits.maxPacketSize}`,
      `listener ${refusingPort} 127.0.0.1`,
      'allow_anonymous false',
      `listener ${openPort} 127.0.0.1`,
      'allow_anonymous true',
      '',
    ].join('\n'),
  );
  const proc = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  await waitForPort(refusingPort, proc, () => log);
  await waitForPort(openPort, proc, () => log);
  return {
    refusingPort,
    openPort,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TcpProxy {
  port: number;
  /** Connections that went through the proxy so far. */
  connections(): number;
  /** Cuts every connection through the proxy at once with a TCP reset, as a network failure would. */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((client) => {
    count++;
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    connections: () => count,
    cut() {
      for (const s of sockets) s.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
