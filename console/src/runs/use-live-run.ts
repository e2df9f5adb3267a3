import { useEffect, useRef, useState } from 'react';
import { readEvents } from '../api/sse.js';
import { FINAL_STATUSES, type LogLine, type Run } from '../api/types.js';
import { useSession } from '../session/session.js';

export interface StepRate {
  /** Rows read per second over the last progress interval, per step name. */
  [step: string]: number;
}

export interface LiveRun {
  run: Run | undefined;
  log: LogLine[];
  rates: StepRate;
  error: Error | undefined;
  /** Whether the run's events are being received now. */
  live: boolean;
}

const POLL_MS = 2000;

/**
 * A run as it happens: its record, then the events stream of the API (`/rest/v1/events?runId=`) until
 * it ends. The stream covers the runs of the process that answers, so when it closes while the run
 * has not ended (the run executes elsewhere in a cluster) the run is read again every two seconds.
 */
export function useLiveRun(id: string): LiveRun {
  const { api } = useSession();
  const [run, setRun] = useState<Run>();
  const [log, setLog] = useState<LogLine[]>([]);
  const [rates, setRates] = useState<StepRate>({});
  const [error, setError] = useState<Error>();
  const [live, setLive] = useState(false);
  const last = useRef<{ at: number; rows: Record<string, number> }>({ at: 0, rows: {} });

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let final = false;
    setRun(undefined);
    setLog([]);
    setRates({});
    setError(undefined);

    const apply = (next: Run) => {
      const now = performance.now();
      const prev = last.current;
      const elapsed = (now - prev.at) / 1000;
      const rows: Record<string, number> = {};
      const r: StepRate = {};
      for (const s of next.steps) {
        rows[s.name] = s.rowsRead;
        const before = prev.rows[s.name];
        if (before !== undefined && elapsed > 0 && s.status === 'running')
          r[s.name] = (s.rowsRead - before) / elapsed;
      }
      last.current = { at: now, rows };
      setRates(r);
      // Events leave out the parameters and log of a run: keep what the first read gave.
      setRun((old) => ({ ...old, ...next, params: next.params ?? old?.params, log: undefined }));
      if (FINAL_STATUSES.includes(next.status)) final = true;
    };

    const poll = async () => {
      try {
        const r = await api.get<Run>(`/rest/v1/runs/${encodeURIComponent(id)}`, controller.signal);
        apply(r);
        setLog(r.log ?? []);
        if (!final) timer = setTimeout(poll, POLL_MS);
      } catch (err) {
        if (!controller.signal.aborted) setError(err instanceof Error ? err : new Error(String(err)));
      }
    };

    (async () => {
      try {
        const first = await api.get<Run>(`/rest/v1/runs/${encodeURIComponent(id)}`, controller.signal);
        apply(first);
        setLog(first.log ?? []);
        if (final) return;
        setLive(true);
        await readEvents(
          `/rest/v1/events?runId=${encodeURIComponent(id)}`,
          api.headers(),
          (m) => {
            if (m.event === 'run.log') {
              const { line } = JSON.parse(m.data) as { line: LogLine };
              setLog((l) => [...l, line]);
            } else {
              apply(JSON.parse(m.data) as Run);
            }
          },
          controller.signal,
        );
        setLive(false);
        // The full record (log included) once the stream has ended.
        await poll();
      } catch (err) {
        setLive(false);
        if (controller.signal.aborted) return;
        setError(err instanceof Error ? err : new Error(String(err)));
        timer = setTimeout(poll, POLL_MS);
      }
    })();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, id]);

  return { run, log, rates, error, live };
}
