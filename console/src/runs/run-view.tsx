import { Code, Group, Loader, Progress, Stack, Table, Text, Title } from '@mantine/core';
import type { LogLine, Run } from '../api/types.js';
import { count, duration, when } from '../components/format.js';
import { StatusBadge } from '../components/status-badge.js';
import type { StepRate } from './use-live-run.js';

/** A run's steps: rows read and written, rows per second while it runs, timings. */
export function StepsTable({ run, rates = {} }: { run: Run; rates?: StepRate }) {
  if (run.steps.length === 0) return <Text c="gray.7">No step has started yet.</Text>;
  return (
    <Table striped withTableBorder aria-label="Steps">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Step</Table.Th>
          <Table.Th scope="col">Status</Table.Th>
          <Table.Th scope="col">Rows read</Table.Th>
          <Table.Th scope="col">Rows written</Table.Th>
          <Table.Th scope="col">Rows/s</Table.Th>
          <Table.Th scope="col">Started</Table.Th>
          <Table.Th scope="col">Duration</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {run.steps.map((s) => (
          <Table.Tr key={s.name} data-step={s.name}>
            <Table.Td>{s.name}</Table.Td>
            <Table.Td>
              <StatusBadge status={s.status} />
            </Table.Td>
            <Table.Td data-cell="rows-read">{count(s.rowsRead)}</Table.Td>
            <Table.Td data-cell="rows-written">{count(s.rowsWritten)}</Table.Td>
            <Table.Td>{rates[s.name] === undefined ? '—' : count(Math.round(rates[s.name] ?? 0))}</Table.Td>
            <Table.Td>{when(s.startedAt)}</Table.Td>
            <Table.Td>{duration(s.durationMs)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function LogView({ log }: { log: LogLine[] }) {
  if (log.length === 0) return <Text c="gray.7">No log lines.</Text>;
  return (
    <Code block aria-label="Log" tabIndex={0} style={{ maxHeight: 320, overflow: 'auto' }}>
      {log.map((l) => `${l.at}  ${l.level.toUpperCase().padEnd(5)}  ${l.message}`).join('\n')}
    </Code>
  );
}

/** The headline of a run: status, totals, and a bar while it is not finished. */
export function RunSummary({ run, live }: { run: Run; live: boolean }) {
  const running = run.status === 'running' || run.status === 'queued';
  return (
    <Stack gap="xs" aria-live="polite">
      <Group gap="md">
        <StatusBadge status={run.status} />
        <Text size="sm">
          {count(run.rowsRead)} rows read, {count(run.rowsWritten)} written
        </Text>
        <Text size="sm">{duration(run.durationMs)}</Text>
        {live && running && <Loader size="xs" aria-label="Receiving live progress" />}
      </Group>
      {running && <Progress value={100} animated aria-label="Run in progress" />}
    </Stack>
  );
}

export function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Stack gap="xs" component="section" aria-label={title}>
      <Title order={2} size="h4">
        {title}
      </Title>
      {children}
    </Stack>
  );
}
