/**
 * One MQTT 5 client connection, opened for a check or a step and never reconnected: a connection that
 * goes away fails what was waiting on it, and every 'error' event is handled here so none can end the
 * process.
 */
import { randomBytes } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import { AppError } from '../../core/errors.js';
import { type BrokerBase, brokerUrl, tlsOptions } from './broker-config.js';

export type MqttLib = typeof import('mqtt');

export interface MqttSettings extends BrokerBase {
  clientId: string;
  keepalive: number;
}

export const BROKER = 'MQTT';

/** A reason code's text as mqtt.js knows it, with the number (MQTT 5 §2.4). */
export function reasonText(err: unknown): string {
  const reason = err instanceof Error ? err.message || err.constructor.name : String(err);
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'number' ? `${reason} (reason code ${code})` : reason;
}

/** An error mqtt.js made from a reason code the broker sent (a CONNACK, PUBACK, PUBREC or PUBCOMP). */
export function hasReasonCode(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number';
}

export interface OpenClient {
  client: MqttClient;
  /** The broker's Receive Maximum: QoS 1 and 2 publishes it takes unacknowledged at once. */
  receiveMaximum: number;
  /** The broker's Maximum Packet Size, when its CONNACK gave one: it closes the connection on a bigger one. */
  maximumPacketSize: number | undefined;
  /** Why the connection ended, once it has (the broker's DISCONNECT reason, a socket error, or a close). */
  ended(): Error | undefined;
  onEnd(listener: (err: Error) => void): void;
  /** Sends DISCONNECT and waits for the socket to close, at most `timeout` seconds. */
  close(): Promise<void>;
}

export async function openMqtt(mqtt: MqttLib, config: MqttSettings): Promise<OpenClient> {
  const url = brokerUrl(config, 'mqtt');
  const secure = url.protocol === 'mqtts:' || url.protocol === 'wss:';
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId: `${config.clientId}-${randomBytes(6).toString('hex')}`,
    clean: true,
    keepalive: config.keepalive,
    connectTimeout: config.timeout * 1000,
    reconnectPeriod: 0,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(secure ? tlsOptions(config) : {}),
  };
  const client = mqtt.connect(url.toString(), options);
  let lastError: Error | undefined;
  let ended: Error | undefined;
  const listeners: ((err: Error) => void)[] = [];
  const end = (err: Error) => {
    if (ended) return;
    ended = err;
    for (const l of listeners) l(err);
  };
  let connected = false;
  client.on('error', (err: Error) => {
    lastError = err;
    // After the CONNACK an error is a packet the client cannot read (Mosquitto 2.0 answers a payload
    // above message_size_limit with PUBACK 149, which MQTT 5 does not allow) or a socket failure: the
    // acks still due may never come, so the connection is given up rather than left waiting.
    if (connected) {
      const socket = 'code' in err && typeof err.code === 'string';
      end(new Error(`the connection ${socket ? 'was lost' : 'failed'} (${err.message})`));
      client.end(true);
    }
  });
  client.on('disconnect', (packet) => {
    const rc = packet.reasonCode ?? 0;
    const codes: Record<number, string | undefined> = mqtt.ReasonCodes;
    const text = codes[rc];
    const why = packet.properties?.reasonString;
    end(
      new Error(
        `the broker closed the connection: ${text ? `${text} ` : ''}(reason code ${rc})${why ? `: ${why}` : ''}`,
      ),
    );
  });
  client.on('close', () => {
    end(new Error(`the connection was lost${lastError ? ` (${lastError.message})` : ''}`));
  });

  try {
    const connack = await new Promise<import('mqtt').IConnackPacket>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no CONNACK within ${config.timeout} s`));
      }, config.timeout * 1000);
      client.once('connect', (packet) => {
        clearTimeout(timer);
        resolve(packet);
      });
      // A refused CONNACK, a socket error or a close before the CONNACK.
      client.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      listeners.push((err) => {
        clearTimeout(timer);
        reject(lastError ?? err);
      });
    });
    listeners.length = 0;
    connected = true;
    return {
      client,
      receiveMaximum: connack.properties?.receiveMaximum ?? 65535,
      maximumPacketSize: connack.properties?.maximumPacketSize,
      ended: () => ended,
      onEnd: (l) => {
        listeners.push(l);
      },
      close: () => closeClient(client, config.timeout),
    };
  } catch (err) {
    client.end(true);
    const refused = hasReasonCode(err);
    throw new AppError(
      'CONNECTION_FAILED',
      `${BROKER}: ${refused ? 'the broker refused the connection: ' : ''}${reasonText(err)}`,
      { cause: err },
    );
  }
}

function closeClient(client: MqttClient, timeout: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (client.disconnected || !client.connected) {
      client.end(true, {}, () => resolve());
      return;
    }
    const timer = setTimeout(() => client.end(true, {}, () => resolve()), timeout * 1000);
    client.end(false, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A topic a PUBLISH may carry (MQTT 5 §4.7): not empty, no wildcard, at most 65,535 bytes. */
export function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'it is empty';
  if (topic.includes('+') || topic.includes('#')) return "it holds a wildcard ('+' or '#')";
  if (topic.includes('\0')) return 'it holds a NUL character';
  if (Buffer.byteLength(topic) > 65535) return 'it is longer than 65,535 bytes';
  return undefined;
}
