/**
 * The console's own logic, run in Node: the events-stream parser, the parameter checks of the run
 * form, and when a token is renewed.
 */
import { describe, expect, it } from 'vitest';
import { parseBlock } from '../../console/src/api/sse.js';
import { checkParameter, runQuery } from '../../console/src/flows/parameter-values.js';
import { expiryOf, renewDelay } from '../../console/src/session/renew-delay.js';

describe('events stream parsing', () => {
  it('reads event, data and id lines and skips comments', () => {
    expect(parseBlock('id: 3\nevent: run.progress\ndata: {"a":1}')).toEqual({
      event: 'run.progress',
      data: '{"a":1}',
    });
    expect(parseBlock(': 2 progress or log events left out\nid: 4\nevent: run.finished\ndata: {}')).toEqual({
      event: 'run.finished',
      data: '{}',
    });
    expect(parseBlock(': keep-alive')).toBeUndefined();
    expect(parseBlock('data: one\ndata: two')).toEqual({ event: 'message', data: 'one\ntwo' });
  });
});

describe('run form parameters', () => {
  it('checks values as the server converts them, keeping them as exact text', () => {
    const int = { type: 'integer' as const };
    expect(checkParameter('roleid', int, '2')).toBeUndefined();
    expect(checkParameter('roleid', int, '123456789012345678901234567890')).toBeUndefined();
    expect(checkParameter('roleid', int, 'two')).toBe('roleid must be a whole number');
    expect(checkParameter('roleid', int, '1.5')).toBe('roleid must be a whole number');
    expect(checkParameter('roleid', int, '')).toBe('roleid is required');
    expect(checkParameter('roleid', { ...int, default: 1 }, '')).toBeUndefined();
    expect(checkParameter('x', { type: 'integer', required: false }, '')).toBeUndefined();
    expect(checkParameter('price', { type: 'number' }, '0.1000000000000000000001')).toBeUndefined();
    expect(checkParameter('price', { type: 'number' }, '1e3')).toBeUndefined();
    expect(checkParameter('price', { type: 'number' }, '1,5')).toBe('price must be a number');
    expect(checkParameter('on', { type: 'boolean' }, 'yes')).toBe('on must be true or false');
    expect(checkParameter('day', { type: 'date' }, '2026-12-04')).toBeUndefined();
    expect(checkParameter('day', { type: 'date' }, '04.12.2026')).toBe('day must be a date (YYYY-MM-DD)');
    expect(runQuery({ a: ' 2 ', b: '', c: 'x' })).toEqual({ a: '2', c: 'x' });
  });
});

describe('token renewal timing', () => {
  it('renews when a third of the remaining life is left, at most a minute early, at once when little is left', () => {
    const now = 1_000_000;
    expect(renewDelay(now + 600_000, now)).toBe(540_000);
    expect(renewDelay(now + 12_000, now)).toBe(8000);
    expect(renewDelay(now + 300, now)).toBe(200);
    expect(renewDelay(now - 5, now)).toBe(0);
  });

  it('takes the expiry from the token’s exp claim, which counts whole seconds', () => {
    const claims = Buffer.from(JSON.stringify({ sub: 'u', exp: 1_000_011 })).toString('base64url');
    const token = `eyJhbGciOiJIUzI1NiJ9.${claims}.signature`;
    // Issued at 1,000,000.9 s with a 12 s lifetime: the server ends it at 1,000,011 s, not 1,000,012.9.
    expect(expiryOf(token, 12, 1_000_000_900)).toBe(1_000_011_000);
    expect(expiryOf('not-a-jwt', 12, 5000)).toBe(17_000);
    expect(expiryOf('a.%%%.c', 12, 5000)).toBe(17_000);
  });
});
