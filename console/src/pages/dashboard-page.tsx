import { Anchor, Card, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { duration } from '../components/format.js';
import { type Hour, HourlyChart } from '../components/hourly-chart.js';
import { PageTitle } from '../components/page-title.js';

interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
}

interface Stats {
  queued: number;
  delayed: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  runningByFlow: Record<string, number>;
  recent: { durationMs: Percentiles; startLatencyMs: Percentiles };
}

function Figure({ label, value, to }: { label: string; value: string | number; to?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" fw={700} tt="uppercase" c="gray.7">
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {to ? (
          <Anchor component={Link} to={to} inherit>
            {value}
          </Anchor>
        ) : (
          value
        )}
      </Text>
    </Card>
  );
}

export default function DashboardPage() {
  const stats = useApi<Stats>('/rest/v1/runs/stats?window=1440');
  const hours = useApi<Hour[]>('/rest/v1/runs/hourly?hours=24');
  const s = stats.data;
  const total = (hours.data ?? []).reduce(
    (acc, h) => ({ ok: acc.ok + h.succeeded, bad: acc.bad + h.failed + h.cancelled }),
    { ok: 0, bad: 0 },
  );
  return (
    <>
      <PageTitle text="Dashboard">Dashboard</PageTitle>
      <ErrorAlert error={stats.error ?? hours.error} />
      <Stack gap="lg">
        {s && (
          <SimpleGrid cols={{ base: 2, md: 5 }} data-testid="figures">
            <Figure label="Running now" value={s.running} to="/runs?status=running" />
            <Figure label="Queued" value={s.queued + s.delayed} to="/runs?status=queued" />
            <Figure label="Failed (all time)" value={s.failed} to="/runs?status=failed" />
            <Figure label="Median run, 24 h" value={duration(s.recent.durationMs.p50)} />
            <Figure label="95th percentile, 24 h" value={duration(s.recent.durationMs.p95)} />
          </SimpleGrid>
        )}
        {hours.data && (
          <Stack gap="xs" component="section" aria-label="Runs per hour">
            <Title order={2} size="h4">
              Runs per hour, last 24 hours: {total.ok} succeeded, {total.bad} failed or cancelled
            </Title>
            <HourlyChart hours={hours.data} />
          </Stack>
        )}
        {s && Object.keys(s.runningByFlow).length > 0 && (
          <Table withTableBorder aria-label="Running by flow">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Flow</Table.Th>
                <Table.Th scope="col">Running</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {Object.entries(s.runningByFlow).map(([flow, n]) => (
                <Table.Tr key={flow}>
                  <Table.Td>{flow}</Table.Td>
                  <Table.Td>{n}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </>
  );
}
