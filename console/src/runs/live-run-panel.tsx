import { Anchor, Stack } from '@mantine/core';
import { Link } from 'react-router';
import { ErrorAlert } from '../components/error-alert.js';
import { LogView, RunSummary, StepsTable } from './run-view.js';
import { useLiveRun } from './use-live-run.js';

/** A run started from the console, followed live until it ends: status, steps and rows, log. */
export function LiveRunPanel({ id }: { id: string }) {
  const { run, log, rates, error, live } = useLiveRun(id);
  return (
    <Stack data-testid="live-run" data-run-id={id} data-status={run?.status}>
      <ErrorAlert error={error} />
      {run && (
        <>
          <RunSummary run={run} live={live} />
          {run.error && <ErrorAlert error={new Error(run.error)} title="The run failed" />}
          <StepsTable run={run} rates={rates} />
          <LogView log={log} />
          <Anchor component={Link} to={`/runs/${encodeURIComponent(id)}`}>
            Open run {id}
          </Anchor>
        </>
      )}
    </Stack>
  );
}
