import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Batch,
  BatchFailure,
  Coalescer,
  type CoalescerOptions,
  type FailurePolicy,
} from '../../src/core/coalescer.js';

/** A promise and the functions that settle it. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

/**
 * A coalescer whose flushes wait until the test lets them end (`release`), recording the items of each
 * flush; an item ending in `!` makes the flush of any batch holding it fail.
 */
function gated(options: Partial<CoalescerOptions<string, string>> = {}) {
  const flushes: string[][] = [];
  const gates: { resolve: () => void }[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  const coalescer = new Coalescer<string, string>({
    onFailure: 'retry-each',
    ...options,
    flush: async ({ items, signal }: Batch<string>) => {
      flushes.push([...items]);
      signals.push(signal);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      if (signal?.aborted) throw new Error('stopped');
      const bad = items.find((i) => i.endsWith('!'));
      if (bad) throw new Error(`bad ${bad}`);
      return items.map((i) => i.toUpperCase());
    },
  });
  /** Lets every flush waiting now end, then waits for what follows to start. */
  const release = async () => {
    for (const g of gates.splice(0)) g.resolve();
    await tick();
  };
  return { coalescer, flushes, signals, release };
}

describe('coalescer', () => {
  it('sends the first item at once and everything that arrived meanwhile in the next flush', async () => {
    const { coalescer, flushes, release } = gated();
    const a = coalescer.submit('k', 'a');
    const b = coalescer.submit('k', 'b');
    const c = coalescer.submit('k', 'c');
    expect(flushes).toEqual([['a']]);
    await release();
    expect(await a).toBe('A');
    expect(flushes).toEqual([['a'], ['b', 'c']]);
    const d = coalescer.submit('k', 'd');
    await release();
    expect([await b, await c]).toEqual(['B', 'C']);
    expect(flushes).toEqual([['a'], ['b', 'c'], ['d']]);
    await release();
    expect(await d).toBe('D');
  });

  it('flushes each key on its own, at the same time', async () => {
    const { coalescer, flushes, release } = gated();
    const results = Promise.all([
      coalescer.submit('x', 'a'),
      coalescer.submit('y', 'b'),
      coalescer.submit('x', 'c'),
      coalescer.submit('y', 'd'),
    ]);
    expect(flushes).toEqual([['a'], ['b']]);
    await release();
    expect(flushes).toEqual([['a'], ['b'], ['c'], ['d']]);
    await release();
    expect(await results).toEqual(['A', 'B', 'C', 'D']);
  });

  it('keeps a batch within its weight, whole items only, and sends a heavier item alone', async () => {
    const { coalescer, flushes, release } = gated({ maxBatch: 5, weight: (i) => i.length });
    const all = Promise.all(['a', 'bb', 'ccc', 'd', 'eeeeeee', 'ff'].map((i) => coalescer.submit('k', i)));
    for (let i = 0; i < 5; i++) await release();
    await all;
    expect(flushes).toEqual([['a'], ['bb', 'ccc'], ['d'], ['eeeeeee'], ['ff']]);
  });

  it('fail-all: every item of a failed batch fails with its error', async () => {
    const { coalescer, flushes, release } = gated({ onFailure: 'fail-all' });
    const first = coalescer.submit('k', 'a');
    const rest = ['b', 'c!', 'd'].map((i) => coalescer.submit('k', i).catch((e: Error) => e.message));
    await release();
    await release();
    expect(await first).toBe('A');
    expect(await Promise.all(rest)).toEqual(['bad c!', 'bad c!', 'bad c!']);
    expect(flushes).toEqual([['a'], ['b', 'c!', 'd']]);
  });

  it('retry-each: a failed batch is sent again item by item, and told to the reporter', async () => {
    const reports: [string, number][] = [];
    const { coalescer, flushes, release } = gated({
      onFailure: 'retry-each',
      report: (err, size) => reports.push([(err as Error).message, size]),
    });
    const outcomes = ['a', 'b', 'c!', 'd'].map((i) =>
      coalescer.submit('k', i).catch((e: Error) => e.message),
    );
    for (let i = 0; i < 5; i++) await release();
    expect(await Promise.all(outcomes)).toEqual(['A', 'B', 'bad c!', 'D']);
    expect(flushes).toEqual([['a'], ['b', 'c!', 'd'], ['b'], ['c!'], ['d']]);
    expect(reports).toEqual([
      ['bad c!', 3],
      ['bad c!', 1],
    ]);
  });

  it('retry-rest: the items before the failing one keep their results, it and the rest go alone', async () => {
    const flushes: string[][] = [];
    const coalescer = new Coalescer<string, string>({
      onFailure: (err) => (err instanceof BatchFailure ? 'retry-rest' : 'fail-all'),
      flush: async ({ items }) => {
        flushes.push([...items]);
        await tick();
        if (items.includes('down')) throw new Error('no connection');
        const bad = items.findIndex((i) => i.endsWith('!'));
        const done = items.slice(0, bad < 0 ? items.length : bad).map((i) => i.toUpperCase());
        if (bad >= 0) throw new BatchFailure(done, new Error(`bad ${items[bad]}`));
        return done;
      },
    });
    const outcome = (i: string) => coalescer.submit('k', i).catch((e: Error) => e.message);
    const first = outcome('a');
    const rest = ['b', 'c!', 'd', 'e'].map(outcome);
    expect(await first).toBe('A');
    expect(await Promise.all(rest)).toEqual(['B', 'bad c!', 'D', 'E']);
    expect(flushes).toEqual([['a'], ['b', 'c!', 'd', 'e'], ['c!'], ['d'], ['e']]);
    // A failure that is not a BatchFailure fails the batch as a whole under this policy choice.
    await coalescer.drain();
    flushes.length = 0;
    const again = ['f', 'g', 'down', 'h'].map(outcome);
    expect(await Promise.all(again)).toEqual(['F', 'no connection', 'no connection', 'no connection']);
    expect(flushes).toEqual([['f'], ['g', 'down', 'h']]);
  });

  it('retry-rest: a plain error counts as a failure of the first item', async () => {
    const flushes: string[][] = [];
    const coalescer = new Coalescer<string, string>({
      onFailure: 'retry-rest',
      flush: async ({ items }) => {
        flushes.push([...items]);
        await tick();
        if (items.length > 1 || items[0] === 'c!') throw new Error(`failed ${items.join()}`);
        return items;
      },
    });
    const all = ['a', 'b', 'c!', 'd'].map((i) => coalescer.submit('k', i).catch((e: Error) => e.message));
    expect(await Promise.all(all)).toEqual(['a', 'b', 'failed c!', 'd']);
    expect(flushes).toEqual([['a'], ['b', 'c!', 'd'], ['b'], ['c!'], ['d']]);
  });

  it('a batch of one fails with its error without being sent again', async () => {
    const { coalescer, flushes, release } = gated({ onFailure: 'retry-each' });
    const one = coalescer.submit('k', 'a!').catch((e: Error) => e.message);
    await release();
    expect(await one).toBe('bad a!');
    expect(flushes).toEqual([['a!']]);
  });

  it('fails the items of a flush that returns the wrong number of results', async () => {
    const coalescer = new Coalescer<string, string>({
      onFailure: 'fail-all',
      flush: async (batch) => batch.items.slice(1),
    });
    await expect(coalescer.submit('k', 'a')).rejects.toThrow('a flush returned 0 results for 1 items');
  });

  describe('cancellation', () => {
    const cancelled = () => new Error('cancelled');

    it('rejects an item whose signal aborted before it was submitted, and never sends it', async () => {
      const { coalescer, flushes } = gated({ cancelled });
      const c = new AbortController();
      c.abort();
      await expect(coalescer.submit('k', 'a', c.signal)).rejects.toThrow('cancelled');
      expect(flushes).toEqual([]);
    });

    it('settles an item cancelled while it waits at once, and never sends it', async () => {
      const { coalescer, flushes, release } = gated({ cancelled });
      const first = coalescer.submit('k', 'a');
      const c = new AbortController();
      const waiting = coalescer.submit('k', 'b', c.signal);
      const after = coalescer.submit('k', 'c');
      c.abort();
      // Before the flush in flight ends.
      await expect(waiting).rejects.toThrow('cancelled');
      await release();
      await release();
      expect([await first, await after]).toEqual(['A', 'C']);
      expect(flushes).toEqual([['a'], ['c']]);
    });

    it('uses the signal reason when no cancelled error is configured', async () => {
      const { coalescer, release } = gated();
      const first = coalescer.submit('k', 'a');
      const c = new AbortController();
      const waiting = coalescer.submit('k', 'b', c.signal);
      c.abort(new Error('reason given'));
      await expect(waiting).rejects.toThrow('reason given');
      await release();
      await first;
    });

    it('aborts the batch signal when an item in flight is cancelled; the others go again alone', async () => {
      const { coalescer, flushes, signals, release } = gated({ cancelled, onFailure: 'retry-each' });
      const first = coalescer.submit('k', 'a');
      const c = new AbortController();
      const outcomes = [
        coalescer.submit('k', 'b'),
        coalescer.submit('k', 'c', c.signal),
        coalescer.submit('k', 'd'),
      ].map((p) => p.catch((e: Error) => e.message));
      expect(signals[0]).toBeUndefined();
      await release();
      await first;
      expect(flushes).toEqual([['a'], ['b', 'c', 'd']]);
      const signal = signals[1];
      expect(signal?.aborted).toBe(false);
      c.abort();
      expect(signal?.aborted).toBe(true);
      for (let i = 0; i < 3; i++) await release();
      expect(await Promise.all(outcomes)).toEqual(['B', 'cancelled', 'D']);
      expect(flushes).toEqual([['a'], ['b', 'c', 'd'], ['b'], ['d']]);
    });

    it('resolves an item cancelled in flight when its flush succeeded anyway', async () => {
      const coalescer = new Coalescer<string, string>({
        onFailure: 'retry-each',
        cancelled,
        flush: async ({ items }) => {
          await tick();
          return items;
        },
      });
      const c = new AbortController();
      const p = coalescer.submit('k', 'a', c.signal);
      c.abort();
      expect(await p).toBe('a');
    });

    it('never sends an item cancelled while it waits for its turn to go alone', async () => {
      const { coalescer, flushes, release } = gated({ cancelled, onFailure: 'retry-each' });
      const first = coalescer.submit('k', 'a');
      const c = new AbortController();
      const outcomes = [
        coalescer.submit('k', 'b!'),
        coalescer.submit('k', 'c'),
        coalescer.submit('k', 'd', c.signal),
      ].map((p) => p.catch((e: Error) => e.message));
      await release();
      await first;
      await release(); // the batch fails; b! goes alone
      expect(flushes.at(-1)).toEqual(['b!']);
      c.abort();
      for (let i = 0; i < 3; i++) await release();
      expect(await Promise.all(outcomes)).toEqual(['bad b!', 'C', 'cancelled']);
      expect(flushes).toEqual([['a'], ['b!', 'c', 'd'], ['b!'], ['c']]);
    });
  });

  it('drain waits until every item of every key is settled', async () => {
    const { coalescer, release } = gated();
    const settled: string[] = [];
    for (const [k, i] of [
      ['x', 'a'],
      ['x', 'b'],
      ['y', 'c'],
    ] as const)
      void coalescer.submit(k, i).then((r) => settled.push(r));
    let drained = false;
    const drain = coalescer.drain().then(() => {
      drained = true;
    });
    await release();
    expect(drained).toBe(false);
    await release();
    await drain;
    expect(settled.sort()).toEqual(['A', 'B', 'C']);
    await coalescer.drain();
  });
});

describe('coalescer properties', () => {
  interface Item {
    id: number;
    key: string;
    bad: boolean;
    weight: number;
  }
  const cancelledError = new Error('cancelled');
  const op = fc.record({
    key: fc.constantFrom('x', 'y'),
    bad: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    weight: fc.integer({ min: 1, max: 3 }),
    cancel: fc.constantFrom('none', 'none', 'before', 'later'),
  });

  it('settles every item once, in order per key, and never sends an item cancelled before its flush', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 20 }),
        fc.constantFrom('fail-all', 'retry-each', 'retry-rest') as fc.Arbitrary<FailurePolicy>,
        fc.scheduler(),
        async (ops, policy, s) => {
          const flushes: { items: Item[]; at: number }[] = [];
          const busyKeys = new Set<string>();
          const done = new Map<number, number>();
          const submitted: Record<string, number[]> = { x: [], y: [] };
          const settled: { id: number; ok: boolean; value: unknown }[] = [];
          const abortedAt = new Map<number, { flushes: number; sent: boolean; settled: boolean }>();
          const MAX = 4;
          const violations: string[] = [];
          const coalescer = new Coalescer<Item, number>({
            onFailure: policy,
            maxBatch: MAX,
            weight: (i) => i.weight,
            cancelled: () => cancelledError,
            flush: async ({ items, signal }) => {
              // A failed expectation here would only fail the flush: it is collected instead.
              const key = items[0]?.key ?? '';
              if (busyKeys.has(key)) violations.push(`two flushes of ${key} at once`);
              if (items.some((i) => i.key !== key)) violations.push('a batch mixes keys');
              if (items.length > 1 && items.reduce((n, i) => n + i.weight, 0) > MAX)
                violations.push('a batch weighs too much');
              busyKeys.add(key);
              flushes.push({ items: [...items], at: flushes.length });
              await s.schedule(Promise.resolve(), `flush ${items.map((i) => i.id).join()}`);
              busyKeys.delete(key);
              // A cancelled batch is stopped as a whole, like a cancelled statement.
              if (signal?.aborted) throw new Error('stopped');
              const bad = items.findIndex((i) => i.bad);
              const ok = items.slice(0, bad < 0 ? items.length : bad);
              const apply = (list: readonly Item[]) => {
                for (const i of list) done.set(i.id, (done.get(i.id) ?? 0) + 1);
              };
              if (bad >= 0) {
                const err = new Error(`bad ${items[bad]?.id}`);
                if (policy !== 'retry-rest') throw err;
                apply(ok);
                throw new BatchFailure(
                  ok.map((i) => i.id * 10),
                  err,
                );
              }
              apply(items);
              return items.map((i) => i.id * 10);
            },
          });
          const outcomes = ops.map((o, id) => {
            const item: Item = { id, key: o.key, bad: o.bad, weight: o.weight };
            const controller = new AbortController();
            if (o.cancel === 'before') controller.abort();
            if (o.cancel === 'later')
              void s.schedule(Promise.resolve(), `cancel ${id}`).then(() => {
                abortedAt.set(id, {
                  flushes: flushes.length,
                  sent: flushes.some((f) => f.items.some((i) => i.id === id)),
                  settled: settled.some((r) => r.id === id),
                });
                controller.abort();
              });
            return s.schedule(Promise.resolve(), `submit ${id}`).then(() => {
              submitted[o.key]?.push(id);
              return coalescer.submit(o.key, item, controller.signal).then(
                (value) => settled.push({ id, ok: true, value }),
                (value: unknown) => settled.push({ id, ok: false, value }),
              );
            });
          });
          // A flush is scheduled a few promise turns after the one before ended: wait until none is left.
          do {
            await s.waitAll();
            await tick();
          } while (s.count() > 0);
          // Every promise has settled by now: one that has not is a failure, not a wait.
          const hung = Symbol('hung');
          const late = await Promise.race([
            Promise.all(outcomes),
            new Promise((r) => setImmediate(() => r(hung))),
          ]);
          expect(late).not.toBe(hung);
          expect(violations).toEqual([]);

          // Exactly once each.
          expect(settled.map((r) => r.id).sort((a, b) => a - b)).toEqual(ops.map((_, i) => i));
          for (const r of settled) {
            const o = ops[r.id];
            if (!o) throw new Error('unknown item');
            const times = done.get(r.id) ?? 0;
            // Never done twice; resolved exactly when done, with its own result.
            expect(times).toBeLessThanOrEqual(1);
            if (r.ok) expect({ times, value: r.value }).toEqual({ times: 1, value: r.id * 10 });
            else expect(times).toBe(0);
            const abort = abortedAt.get(r.id);
            if (o.cancel === 'before' || (abort && !abort.sent && !abort.settled)) {
              expect(r).toEqual({ id: r.id, ok: false, value: cancelledError });
              expect(flushes.filter((f) => f.items.some((i) => i.id === r.id))).toEqual([]);
            }
            if (abort) {
              // Never sent after it was cancelled (before its first flush, or before going again alone).
              const sentLater = flushes.filter(
                (f) => f.at >= abort.flushes && f.items.some((i) => i.id === r.id),
              );
              expect(sentLater).toEqual([]);
            }
            if (o.cancel === 'none' && policy !== 'fail-all') {
              // Under a retry policy only an item's own fault fails it.
              expect(r.ok ? 'ok' : (r.value as Error).message).toBe(o.bad ? `bad ${r.id}` : 'ok');
            }
          }
          // A flush takes its items in the order they were submitted.
          for (const f of flushes) {
            const order = f.items.map((i) => submitted[i.key]?.indexOf(i.id));
            expect(order).toEqual([...order].sort((a = 0, b = 0) => a - b));
          }
          // Items that were not cancelled settle in the order they were submitted, per key.
          for (const key of ['x', 'y']) {
            const keyOrder = (submitted[key] ?? []).filter((id) => {
              const r = settled.find((x) => x.id === id);
              return r && r.value !== cancelledError;
            });
            const settleOrder = settled
              .filter((r) => ops[r.id]?.key === key && r.value !== cancelledError)
              .map((r) => r.id);
            expect(settleOrder).toEqual(keyOrder);
          }
        },
      ),
      { numRuns: 300, timeout: 2000 },
    );
  });
});
