import { Card, Code, Group, Stack, Text } from '@mantine/core';
import type { Flow, StepEnd } from '../api/types.js';

function End({ label, end }: { label: string; end: StepEnd }) {
  const what = end.table ?? end.file ?? end.query ?? end.request?.url;
  return (
    <Card withBorder padding="sm" w={260}>
      <Text size="xs" c="gray.7" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fw={600}>{end.connection}</Text>
      {what && (
        <Code block style={{ whiteSpace: 'pre-wrap' }}>
          {what}
        </Code>
      )}
      {end.format && <Text size="sm">format {end.format.type}</Text>}
      {end.mode && <Text size="sm">mode {end.mode}</Text>}
    </Card>
  );
}

function Arrow() {
  return (
    <Text aria-hidden="true" size="xl" c="gray.7">
      →
    </Text>
  );
}

/** A flow's steps as source → transforms → destination, one row per step. */
export function FlowDiagram({ flow }: { flow: Flow }) {
  if (flow.type === 'sql') {
    return (
      <Card withBorder padding="sm">
        <Text fw={600}>SQL on {flow.connection}</Text>
        <Code block>{flow.sql}</Code>
      </Card>
    );
  }
  if (flow.type === 'pipeline') {
    const names = (flow.flows ?? []).map((f) => (typeof f === 'string' ? f : f.flow));
    return (
      <Group gap="xs" role="list" aria-label="Flows in order">
        {names.map((n, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a pipeline may run one flow twice; the order is the identity
          <Group key={`${n}-${i}`} gap="xs" role="listitem">
            {i > 0 && <Arrow />}
            <Card withBorder padding="sm">
              {n}
            </Card>
          </Group>
        ))}
      </Group>
    );
  }
  return (
    <Stack role="list" aria-label="Steps">
      {(flow.steps ?? []).map((s, i) => (
        <Stack key={s.name ?? i} gap={4} role="listitem">
          <Text fw={600} size="sm">
            {s.name ?? `step ${i + 1}`}
          </Text>
          <Group gap="xs" align="center" wrap="nowrap">
            <End label="Source" end={s.from} />
            <Arrow />
            {(s.transforms ?? []).length > 0 && (
              <>
                <Card withBorder padding="sm">
                  <Text size="xs" c="gray.7" tt="uppercase" fw={700}>
                    Transforms
                  </Text>
                  <Text>{(s.transforms ?? []).map((t) => t.type).join(' → ')}</Text>
                </Card>
                <Arrow />
              </>
            )}
            <End label="Destination" end={s.to} />
          </Group>
        </Stack>
      ))}
    </Stack>
  );
}
