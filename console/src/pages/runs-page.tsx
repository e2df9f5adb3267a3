import { Anchor, Button, Group, Select, Table, Text, TextInput } from '@mantine/core';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { withQuery } from '../api/client.js';
import { type Flow, RUN_STATUSES, RUN_TRIGGERS, type Run } from '../api/types.js';
import { useApi } from '../api/use-api.js';
import { ErrorAlert } from '../components/error-alert.js';
import { count, duration, when } from '../components/format.js';
import { PageTitle } from '../components/page-title.js';
import { StatusBadge } from '../components/status-badge.js';

const PAGE = 25;

/** A datetime-local field's value (local time, no zone) as the UTC instant the API takes. */
function isoOf(local: string): string | undefined {
  if (local === '') return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An instant in the address as a datetime-local field shows it, in the browser's time zone. */
function localInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
/** The first page in the trail of earlier pages (it has no cursor). */
const FIRST = '-';

/**
 * The run history, newest first, filtered and paged by the server: a page asks for one run more than it
 * shows, to know whether an older page exists, and the next page starts after the last run shown. The
 * filters and the page live in the address, so a view can be bookmarked and Back works.
 */
export default function RunsPage() {
  const [params, setParams] = useSearchParams();
  const flow = params.get('flow') ?? undefined;
  const status = params.get('status') ?? undefined;
  const trigger = params.get('trigger') ?? undefined;
  const from = params.get('from') ?? undefined;
  const to = params.get('to') ?? undefined;
  const before = params.get('before') ?? undefined;
  // Earlier pages' cursors, so "Newer" goes back one page.
  const trail =
    params
      .get('trail')
      ?.split(',')
      .filter((c) => c !== '') ?? [];
  const flows = useApi<Flow[]>('/rest/v1/flows');
  const runs = useApi<Run[]>(
    withQuery('/rest/v1/runs', { flow, status, trigger, from, to, before, limit: PAGE + 1 }),
  );
  const shown = useMemo(() => (runs.data ?? []).slice(0, PAGE), [runs.data]);
  const hasOlder = (runs.data?.length ?? 0) > PAGE;

  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
  };
  const filter = (key: string) => (v: string | null) =>
    set({ [key]: v ?? undefined, before: undefined, trail: undefined });

  return (
    <>
      <PageTitle text="Runs">Runs</PageTitle>
      <Group mb="md" align="end">
        <Select
          label="Flow"
          placeholder="Any flow"
          clearable
          searchable
          data={(flows.data ?? []).map((f) => f.name)}
          value={flow ?? null}
          onChange={filter('flow')}
        />
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={[...RUN_STATUSES]}
          value={status ?? null}
          onChange={filter('status')}
        />
        <Select
          label="Trigger"
          placeholder="Any trigger"
          clearable
          data={[...RUN_TRIGGERS]}
          value={trigger ?? null}
          onChange={filter('trigger')}
        />
        <TextInput
          label="Created from"
          type="datetime-local"
          value={localInput(from)}
          onChange={(e) => set({ from: isoOf(e.currentTarget.value), before: undefined, trail: undefined })}
        />
        <TextInput
          label="Created before"
          type="datetime-local"
          value={localInput(to)}
          onChange={(e) => set({ to: isoOf(e.currentTarget.value), before: undefined, trail: undefined })}
        />
        <Button variant="default" onClick={runs.reload}>
          Refresh
        </Button>
      </Group>
      <ErrorAlert error={runs.error} />
      {runs.data && shown.length === 0 && <Text>No runs match.</Text>}
      {shown.length > 0 && (
        <Table striped highlightOnHover withTableBorder aria-label="Runs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Created</Table.Th>
              <Table.Th scope="col">Flow</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Trigger</Table.Th>
              <Table.Th scope="col">By</Table.Th>
              <Table.Th scope="col">Duration</Table.Th>
              <Table.Th scope="col">Rows read</Table.Th>
              <Table.Th scope="col">Rows written</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((r) => (
              <Table.Tr key={r.id} data-run-id={r.id}>
                <Table.Td>
                  <Anchor
                    component={Link}
                    to={`/runs/${encodeURIComponent(r.id)}`}
                    aria-label={`Run ${r.id} of ${r.flow}, ${when(r.createdAt)}`}
                  >
                    {when(r.createdAt)}
                  </Anchor>
                </Table.Td>
                <Table.Td>{r.flow}</Table.Td>
                <Table.Td>
                  <StatusBadge status={r.status} />
                </Table.Td>
                <Table.Td>{r.trigger}</Table.Td>
                <Table.Td>{r.requestedBy ?? '—'}</Table.Td>
                <Table.Td>{duration(r.durationMs)}</Table.Td>
                <Table.Td>{count(r.rowsRead)}</Table.Td>
                <Table.Td>{count(r.rowsWritten)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Group mt="md">
        <Button
          variant="default"
          disabled={before === undefined}
          onClick={() => {
            const previous = trail.at(-1);
            set({ before: previous === FIRST ? undefined : previous, trail: trail.slice(0, -1).join(',') });
          }}
        >
          Newer
        </Button>
        <Button
          variant="default"
          disabled={!hasOlder}
          onClick={() => set({ before: shown.at(-1)?.id, trail: [...trail, before ?? FIRST].join(',') })}
        >
          Older
        </Button>
      </Group>
    </>
  );
}
