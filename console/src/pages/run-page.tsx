import { Anchor, Button, Group, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { withQuery } from '../api/client.js';
import { FINAL_STATUSES, type Run } from '../api/types.js';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { count, duration, when } from '../components/format.js';
import { PageTitle } from '../components/page-title.js';
import { StatusBadge } from '../components/status-badge.js';
import { LogView, RunSummary, Section, StepsTable } from '../runs/run-view.js';
import { useLiveRun } from '../runs/use-live-run.js';
import { useSession } from '../session/session.js';

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" fw={700} tt="uppercase" c="gray.7" component="dt">
        {label}
      </Text>
      <Text component="dd" m={0}>
        {children}
      </Text>
    </div>
  );
}

function Parameters({ params }: { params: Record<string, string> | undefined }) {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return <Text>No parameters were given.</Text>;
  return (
    <Table withTableBorder aria-label="Parameters of the run">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Name</Table.Th>
          <Table.Th scope="col">Value</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {entries.map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Td>
              <code>{k}</code>
            </Table.Td>
            <Table.Td>{v}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The runs this run started (a pipeline's steps), read again when the run's status changes. */
function Children({ run }: { run: Run }) {
  const children = useApi<Run[]>(`/rest/v1/runs?parent=${encodeURIComponent(run.id)}&limit=1000`);
  const reload = children.reload;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new status may mean new children
  useEffect(() => reload(), [run.status, reload]);
  const rows = children.data ?? [];
  if (rows.length === 0) return null;
  return (
    <Section title="Runs it started">
      <Table withTableBorder aria-label="Runs it started">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Flow</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">Duration</Table.Th>
            <Table.Th scope="col">Rows written</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {[...rows].reverse().map((c) => (
            <Table.Tr key={c.id} data-child-run={c.id}>
              <Table.Td>
                <Anchor component={Link} to={`/runs/${encodeURIComponent(c.id)}`}>
                  {c.flow}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <StatusBadge status={c.status} />
              </Table.Td>
              <Table.Td>{when(c.createdAt)}</Table.Td>
              <Table.Td>{duration(c.durationMs)}</Table.Td>
              <Table.Td>{count(c.rowsWritten)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Section>
  );
}

function Actions({ run }: { run: Run }) {
  const { api, can } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  if (!can('operator')) return null;
  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  const ended = FINAL_STATUSES.includes(run.status);
  return (
    <Stack gap="xs">
      <Group>
        {!ended && (
          <Button
            color="red"
            variant="outline"
            loading={busy}
            onClick={() => act(() => api.post(`/rest/v1/runs/${encodeURIComponent(run.id)}/cancel`))}
          >
            Cancel run
          </Button>
        )}
        <Button
          variant="default"
          loading={busy}
          onClick={() =>
            act(async () => {
              const path = withQuery(`/rest/v1/flows/flow-name/${encodeURIComponent(run.flow)}/run`, {
                ...run.params,
                async: 'true',
              });
              const started = await api.post<{ runId: string }>(path);
              navigate(`/runs/${encodeURIComponent(started.runId)}`);
            })
          }
        >
          Run again
        </Button>
      </Group>
      <ErrorAlert error={error} />
    </Stack>
  );
}

export default function RunPage() {
  const { id = '' } = useParams();
  const { run, log, rates, error, live } = useLiveRun(id);
  return (
    <>
      <PageTitle text={`Run ${id}`}>Run of {run ? run.flow : '…'}</PageTitle>
      <ErrorAlert error={error} />
      {run && (
        <Stack gap="lg" data-testid="run" data-status={run.status}>
          <Group justify="space-between" align="start">
            <RunSummary run={run} live={live} />
            <Actions run={run} />
          </Group>
          {run.error && (
            <ErrorAlert
              error={new Error(run.errorCode ? `${run.error} (${run.errorCode})` : run.error)}
              title="Error"
            />
          )}
          <SimpleGrid cols={{ base: 2, md: 4 }} component="dl">
            <Fact label="Flow">
              <Anchor component={Link} to={`/flows/${encodeURIComponent(run.flow)}`}>
                {run.flow}
              </Anchor>
            </Fact>
            <Fact label="Run id">{run.id}</Fact>
            <Fact label="Trigger">{run.schedule ? `${run.trigger} (${run.schedule})` : run.trigger}</Fact>
            <Fact label="Requested by">{run.requestedBy ?? '—'}</Fact>
            <Fact label="Created">{when(run.createdAt)}</Fact>
            <Fact label="Started">{when(run.startedAt)}</Fact>
            <Fact label="Finished">{when(run.finishedAt)}</Fact>
            <Fact label="Duration">{duration(run.durationMs)}</Fact>
            <Fact label="Attempt">{run.attempt}</Fact>
            {run.parentId && (
              <Fact label="Started by run">
                <Anchor component={Link} to={`/runs/${encodeURIComponent(run.parentId)}`}>
                  {run.parentId}
                </Anchor>
              </Fact>
            )}
          </SimpleGrid>
          <Section title="Steps">
            <StepsTable run={run} rates={rates} />
          </Section>
          <Children run={run} />
          <Section title="Parameters">
            <Parameters params={run.params} />
          </Section>
          <Section title="Log">
            <LogView log={log} />
          </Section>
        </Stack>
      )}
    </>
  );
}
