import { Button, Group, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { ApiError } from '../api/client.js';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { duration, when } from '../components/format.js';
import { PageTitle } from '../components/page-title.js';
import { useSession } from '../session/session.js';

interface Connection {
  name: string;
  type: string;
  description?: string;
  updatedAt: string;
  updatedBy: string | null;
}

interface TestResult {
  ok: boolean;
  message: string;
  durationMs: number;
}

/** "Test": asks the server to reach the connection with its saved settings, and says what it answered. */
function TestButton({ name }: { name: string }) {
  const { api } = useSession();
  const [result, setResult] = useState<TestResult>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  return (
    <Group gap="xs" wrap="nowrap">
      <Button
        size="xs"
        variant="default"
        loading={busy}
        aria-label={`Test connection ${name}`}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            setResult(await api.post<TestResult>(`/rest/v1/connections/${encodeURIComponent(name)}/test`));
          } catch (err) {
            setResult(undefined);
            setError(err instanceof ApiError || err instanceof Error ? err : new Error(String(err)));
          } finally {
            setBusy(false);
          }
        }}
      >
        Test
      </Button>
      <Text
        size="sm"
        role="status"
        data-testid={`test-${name}`}
        data-ok={result ? String(result.ok) : undefined}
      >
        {result &&
          (result.ok ? `${result.message} (${duration(result.durationMs)})` : `Failed: ${result.message}`)}
        {error?.message}
      </Text>
    </Group>
  );
}

export default function ConnectionsPage() {
  const { can } = useSession();
  const connections = useApi<Connection[]>('/rest/v1/connections');
  return (
    <>
      <PageTitle text="Connections">Connections</PageTitle>
      <ErrorAlert error={connections.error} />
      {connections.data && connections.data.length === 0 && <Text>No connections yet.</Text>}
      {connections.data && connections.data.length > 0 && (
        <Table striped withTableBorder aria-label="Connections">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Name</Table.Th>
              <Table.Th scope="col">Type</Table.Th>
              <Table.Th scope="col">Description</Table.Th>
              <Table.Th scope="col">Saved</Table.Th>
              {can('operator') && <Table.Th scope="col">Test</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {connections.data.map((c) => (
              <Table.Tr key={c.name} data-connection={c.name}>
                <Table.Td>{c.name}</Table.Td>
                <Table.Td>{c.type}</Table.Td>
                <Table.Td>{c.description ?? ''}</Table.Td>
                <Table.Td>
                  {when(c.updatedAt)}
                  {c.updatedBy ? ` by ${c.updatedBy}` : ''}
                </Table.Td>
                {can('operator') && (
                  <Table.Td>
                    <TestButton name={c.name} />
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
