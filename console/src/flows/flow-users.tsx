import { Badge, Stack, Table, Text } from '@mantine/core';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';

interface Schedule {
  name: string;
  flow: string;
  cron: string;
  timezone?: string;
  enabled?: boolean;
}

interface Listener {
  name: string;
  flow: string;
  path: string;
  methods: string[];
  mode?: string;
}

/** The schedules and listeners that run a flow, each listener with the full URL to call. */
export function FlowUsers({ flow }: { flow: string }) {
  const schedules = useApi<Schedule[]>('/rest/v1/schedules');
  const listeners = useApi<Listener[]>('/rest/v1/listeners');
  const mySchedules = (schedules.data ?? []).filter((s) => s.flow === flow);
  const myListeners = (listeners.data ?? []).filter((l) => l.flow === flow);
  const loaded = schedules.data !== undefined && listeners.data !== undefined;
  return (
    <Stack>
      <ErrorAlert error={schedules.error ?? listeners.error} />
      {loaded && mySchedules.length === 0 && myListeners.length === 0 && (
        <Text>No schedule or listener runs this flow.</Text>
      )}
      {mySchedules.length > 0 && (
        <Table withTableBorder aria-label="Schedules of this flow">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Schedule</Table.Th>
              <Table.Th scope="col">Cron</Table.Th>
              <Table.Th scope="col">Time zone</Table.Th>
              <Table.Th scope="col">State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {mySchedules.map((s) => (
              <Table.Tr key={s.name} data-schedule={s.name}>
                <Table.Td>{s.name}</Table.Td>
                <Table.Td>
                  <code>{s.cron}</code>
                </Table.Td>
                <Table.Td>{s.timezone ?? 'UTC'}</Table.Td>
                <Table.Td>{s.enabled === false ? 'disabled' : 'enabled'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {myListeners.length > 0 && (
        <Table withTableBorder aria-label="Listeners of this flow">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Listener</Table.Th>
              <Table.Th scope="col">Methods</Table.Th>
              <Table.Th scope="col">URL</Table.Th>
              <Table.Th scope="col">Mode</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {myListeners.map((l) => (
              <Table.Tr key={l.name} data-listener={l.name}>
                <Table.Td>{l.name}</Table.Td>
                <Table.Td>
                  {l.methods.map((m) => (
                    <Badge
                      key={m}
                      variant="outline"
                      color="gray"
                      mr={4}
                      styles={{ label: { color: 'var(--mantine-color-gray-8)' } }}
                    >
                      {m}
                    </Badge>
                  ))}
                </Table.Td>
                <Table.Td>
                  <code>{`${window.location.origin}/rest/v1/httplistener/${l.path}`}</code>
                </Table.Td>
                <Table.Td>{l.mode ?? 'sync'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
