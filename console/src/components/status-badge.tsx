import { Badge } from '@mantine/core';
import type { RunStatus } from '../api/types.js';

const COLORS: Record<RunStatus, string> = {
  queued: 'gray',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'orange',
};

/** A run's or step's status: its word in the text colour, with a coloured dot (never colour alone). */
export function StatusBadge({ status }: { status: RunStatus }) {
  return (
    <Badge
      color={COLORS[status]}
      variant="dot"
      data-status={status}
      styles={{ root: { color: 'var(--mantine-color-text)' } }}
    >
      {status}
    </Badge>
  );
}
