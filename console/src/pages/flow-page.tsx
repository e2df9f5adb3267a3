import { Anchor, Badge, Button, Group, Modal, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import type { Flow } from '../api/types.js';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { when } from '../components/format.js';
import { PageTitle } from '../components/page-title.js';
import { FlowDiagram } from '../flows/flow-diagram.js';
import { FlowUsers } from '../flows/flow-users.js';
import { FlowVersions } from '../flows/flow-versions.js';
import { RunForm } from '../flows/run-form.js';
import { LiveRunPanel } from '../runs/live-run-panel.js';
import { Section } from '../runs/run-view.js';
import { useSession } from '../session/session.js';

function Parameters({ flow }: { flow: Flow }) {
  const entries = Object.entries(flow.parameters ?? {});
  if (entries.length === 0) return <Text>This flow takes no parameters.</Text>;
  return (
    <Table withTableBorder aria-label="Parameters">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Name</Table.Th>
          <Table.Th scope="col">Type</Table.Th>
          <Table.Th scope="col">Default</Table.Th>
          <Table.Th scope="col">Required</Table.Th>
          <Table.Th scope="col">Description</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {entries.map(([name, p]) => (
          <Table.Tr key={name}>
            <Table.Td>
              <code>{name}</code>
            </Table.Td>
            <Table.Td>{p.type}</Table.Td>
            <Table.Td>{p.default === undefined || p.default === null ? '—' : String(p.default)}</Table.Td>
            <Table.Td>
              {(p.required ?? (p.default === undefined || p.default === null)) ? 'yes' : 'no'}
            </Table.Td>
            <Table.Td>{p.description ?? ''}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export default function FlowPage() {
  const { name = '' } = useParams();
  const { can } = useSession();
  const flow = useApi<Flow>(`/rest/v1/flows/${encodeURIComponent(name)}`);
  const [running, setRunning] = useState(false);
  const [runId, setRunId] = useState<string>();

  return (
    <>
      <PageTitle text={`Flow ${name}`}>Flow {name}</PageTitle>
      <ErrorAlert error={flow.error} />
      {flow.data && (
        <Stack gap="lg">
          <Group justify="space-between">
            <Stack gap={2}>
              {flow.data.description && <Text>{flow.data.description}</Text>}
              <Group gap="xs">
                <Badge
                  variant="outline"
                  color="gray"
                  styles={{ label: { color: 'var(--mantine-color-gray-8)' } }}
                >
                  {flow.data.type}
                </Badge>
                <Text size="sm">
                  version {flow.data.version}, saved {when(flow.data.updatedAt)}
                  {flow.data.updatedBy ? ` by ${flow.data.updatedBy}` : ''}
                </Text>
              </Group>
            </Stack>
            <Group>
              <Anchor component={Link} to={`/runs?flow=${encodeURIComponent(name)}`}>
                Runs of this flow
              </Anchor>
              {can('operator') && <Button onClick={() => setRunning(true)}>Run</Button>}
            </Group>
          </Group>
          {runId && (
            <Section title="Latest run">
              <LiveRunPanel id={runId} />
            </Section>
          )}
          <Section title="Steps">
            <FlowDiagram flow={flow.data} />
          </Section>
          <Section title="Parameters">
            <Parameters flow={flow.data} />
          </Section>
          <Section title="Schedules and listeners">
            <FlowUsers flow={name} />
          </Section>
          <Section title="Versions">
            <FlowVersions name={name} current={flow.data.version} onReverted={flow.reload} />
          </Section>
          <Modal opened={running} onClose={() => setRunning(false)} title={`Run ${name}`}>
            <RunForm
              flow={flow.data}
              onStarted={(id) => {
                setRunning(false);
                setRunId(id);
              }}
            />
          </Modal>
        </Stack>
      )}
    </>
  );
}
