import { Anchor, Group, Table, Text, TextInput } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { Flow, Run } from '../api/types.js';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { when } from '../components/format.js';
import { PageTitle } from '../components/page-title.js';
import { StatusBadge } from '../components/status-badge.js';

export default function FlowsPage() {
  const flows = useApi<Flow[]>('/rest/v1/flows');
  const latest = useApi<Run[]>('/rest/v1/runs/latest');
  const [search, setSearch] = useState('');
  const lastRun = useMemo(() => new Map((latest.data ?? []).map((r) => [r.flow, r])), [latest.data]);
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (flows.data ?? []).filter(
      (f) => q === '' || f.name.toLowerCase().includes(q) || (f.description ?? '').toLowerCase().includes(q),
    );
  }, [flows.data, search]);

  return (
    <>
      <PageTitle text="Flows">Flows</PageTitle>
      <Group mb="md">
        <TextInput
          label="Search flows"
          placeholder="Name or description"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={320}
        />
      </Group>
      <ErrorAlert error={flows.error ?? latest.error} />
      {flows.data && shown.length === 0 && <Text>{search ? 'No flow matches.' : 'No flows yet.'}</Text>}
      {shown.length > 0 && (
        <Table striped highlightOnHover withTableBorder aria-label="Flows">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Name</Table.Th>
              <Table.Th scope="col">Type</Table.Th>
              <Table.Th scope="col">Description</Table.Th>
              <Table.Th scope="col">Last run</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((f) => {
              const run = lastRun.get(f.name);
              return (
                <Table.Tr key={f.name} data-flow={f.name}>
                  <Table.Td>
                    <Anchor component={Link} to={`/flows/${encodeURIComponent(f.name)}`}>
                      {f.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{f.type}</Table.Td>
                  <Table.Td>{f.description ?? ''}</Table.Td>
                  <Table.Td>
                    {run ? (
                      <Anchor component={Link} to={`/runs/${encodeURIComponent(run.id)}`}>
                        {when(run.createdAt)}
                      </Anchor>
                    ) : (
                      'never'
                    )}
                  </Table.Td>
                  <Table.Td>{run ? <StatusBadge status={run.status} /> : null}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
