import { Button, Code, Group, Select, Stack, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { withQuery } from '../api/client.js';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { when } from '../components/format.js';
import { useSession } from '../session/session.js';

interface Version {
  version: number;
  savedAt: string;
  savedBy: string | null;
}

interface Change {
  op: 'add' | 'remove' | 'replace';
  path: string;
  from?: unknown;
  to?: unknown;
}

const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 1));

/**
 * Every saved version of a flow, what changed between any two (one line per JSON Pointer path), and
 * "Revert" (editor): the chosen version saved again as the newest, audited by the server.
 */
export function FlowVersions({
  name,
  current,
  onReverted,
}: {
  name: string;
  current: number;
  onReverted: () => void;
}) {
  const { api, can } = useSession();
  const base = `/rest/v1/flows/${encodeURIComponent(name)}`;
  const versions = useApi<Version[]>(`${base}/versions`);
  const reloadVersions = versions.reload;
  // A revert (here or elsewhere) makes a new current version: list them again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: current changes when the flow is saved again
  useEffect(() => reloadVersions(), [current, reloadVersions]);
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const older = from ?? String(Math.max(1, current - 1));
  const newer = to ?? String(current);
  const diff = useApi<{ changes: Change[] }>(
    older === newer ? undefined : withQuery(`${base}/diff`, { from: older, to: newer }),
  );
  const [error, setError] = useState<Error>();
  const options = (versions.data ?? []).map((v) => ({
    value: String(v.version),
    label: `${v.version} · ${when(v.savedAt)}${v.savedBy ? ` · ${v.savedBy}` : ''}`,
  }));

  return (
    <Stack>
      <ErrorAlert error={versions.error ?? diff.error ?? error} />
      <Table withTableBorder aria-label="Versions">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Version</Table.Th>
            <Table.Th scope="col">Saved</Table.Th>
            <Table.Th scope="col">By</Table.Th>
            {can('editor') && <Table.Th scope="col">Revert</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(versions.data ?? []).map((v) => (
            <Table.Tr key={v.version} data-version={v.version}>
              <Table.Td>{v.version === current ? `${v.version} (current)` : v.version}</Table.Td>
              <Table.Td>{when(v.savedAt)}</Table.Td>
              <Table.Td>{v.savedBy ?? '—'}</Table.Td>
              {can('editor') && (
                <Table.Td>
                  {v.version !== current && (
                    <Button
                      size="xs"
                      variant="default"
                      aria-label={`Revert to version ${v.version}`}
                      onClick={async () => {
                        setError(undefined);
                        try {
                          await api.post(`${base}/versions/${v.version}/revert`);
                          setFrom(null);
                          setTo(null);
                          onReverted();
                        } catch (err) {
                          setError(err instanceof Error ? err : new Error(String(err)));
                        }
                      }}
                    >
                      Revert
                    </Button>
                  )}
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {options.length > 1 && (
        <>
          <Group align="end">
            <Select
              label="Compare version"
              data={options}
              value={older}
              onChange={setFrom}
              allowDeselect={false}
            />
            <Select
              label="with version"
              data={options}
              value={newer}
              onChange={setTo}
              allowDeselect={false}
            />
          </Group>
          {older === newer && <Text size="sm">Choose two different versions.</Text>}
          {diff.data && diff.data.changes.length === 0 && (
            <Text size="sm">No change between these versions.</Text>
          )}
          {diff.data && diff.data.changes.length > 0 && (
            <Table withTableBorder aria-label="Changes">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Change</Table.Th>
                  <Table.Th scope="col">Path</Table.Th>
                  <Table.Th scope="col">In {older}</Table.Th>
                  <Table.Th scope="col">In {newer}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {diff.data.changes.map((c) => (
                  <Table.Tr key={`${c.op}${c.path}`} data-path={c.path}>
                    <Table.Td>{c.op}</Table.Td>
                    <Table.Td>
                      <code>{c.path}</code>
                    </Table.Td>
                    <Table.Td>
                      <Code block>{show(c.from)}</Code>
                    </Table.Td>
                    <Table.Td>
                      <Code block>{show(c.to)}</Code>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      )}
    </Stack>
  );
}
