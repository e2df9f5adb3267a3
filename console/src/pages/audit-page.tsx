import { Alert, Button, Group, Select, Table, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { withQuery } from '../api/client.js';
import type { AuditEvent, VerifyResult } from '../api/types.js';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { when } from '../components/format.js';
import { PageTitle } from '../components/page-title.js';
import { useSession } from '../session/session.js';

function Verify() {
  const { api } = useSession();
  const [result, setResult] = useState<VerifyResult>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  return (
    <Group align="start">
      <Button
        loading={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            setResult(await api.post<VerifyResult>('/rest/v1/audit/verify'));
          } catch (err) {
            setError(err instanceof Error ? err : new Error(String(err)));
          } finally {
            setBusy(false);
          }
        }}
      >
        Verify chain
      </Button>
      <div aria-live="polite">
        {result?.ok && (
          <Alert color="green" title="The chain is whole" data-testid="verify-result">
            {result.checked} events checked: each hash matches its event and the one before, up to the stored
            head.
          </Alert>
        )}
        {result && !result.ok && (
          <Alert color="red" title="The chain is broken" data-testid="verify-result">
            {result.reason ?? 'An event does not match its hash'}
            {result.brokenAt !== undefined ? ` (event ${result.brokenAt})` : ''}; {result.checked} events
            checked.
          </Alert>
        )}
        <ErrorAlert error={error} />
      </div>
    </Group>
  );
}

export default function AuditPage() {
  const [params, setParams] = useSearchParams();
  const action = params.get('action') ?? undefined;
  const user = params.get('user') ?? undefined;
  const outcome = params.get('outcome') ?? undefined;
  const [actionText, setActionText] = useState(action ?? '');
  const [userText, setUserText] = useState(user ?? '');
  const events = useApi<{ events: AuditEvent[] }>(
    withQuery('/rest/v1/audit', { action, user, outcome, limit: 200 }),
  );
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
  };

  return (
    <>
      <PageTitle text="Audit trail">Audit trail</PageTitle>
      <Verify />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          set({ action: actionText.trim(), user: userText.trim() });
        }}
      >
        <Group my="md" align="end">
          <TextInput
            label="Action"
            placeholder="e.g. login.failed"
            value={actionText}
            onChange={(e) => setActionText(e.currentTarget.value)}
          />
          <TextInput label="User" value={userText} onChange={(e) => setUserText(e.currentTarget.value)} />
          <Select
            label="Outcome"
            placeholder="Any outcome"
            clearable
            data={['success', 'failure', 'denied']}
            value={outcome ?? null}
            onChange={(v) => set({ outcome: v ?? undefined })}
          />
          <Button type="submit" variant="default">
            Filter
          </Button>
        </Group>
      </form>
      <ErrorAlert error={events.error} />
      {events.data && events.data.events.length === 0 && <Text>No events match.</Text>}
      {events.data && events.data.events.length > 0 && (
        <Table striped withTableBorder aria-label="Audit events">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">At</Table.Th>
              <Table.Th scope="col">User</Table.Th>
              <Table.Th scope="col">Action</Table.Th>
              <Table.Th scope="col">Target</Table.Th>
              <Table.Th scope="col">Outcome</Table.Th>
              <Table.Th scope="col">From</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.data.events.map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>{when(e.at)}</Table.Td>
                <Table.Td>{e.actor ?? '—'}</Table.Td>
                <Table.Td>
                  <code>{e.action}</code>
                </Table.Td>
                <Table.Td>{e.target ?? ''}</Table.Td>
                <Table.Td>{e.outcome}</Table.Td>
                <Table.Td>{e.clientIp ?? ''}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
