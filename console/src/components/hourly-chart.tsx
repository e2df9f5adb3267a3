import { Group, Text } from '@mantine/core';

export interface Hour {
  hour: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  running: number;
  queued: number;
}

const W = 720;
const H = 160;
const PAD = 24;
const GREEN = 'var(--mantine-color-green-8)';
const RED = 'var(--mantine-color-red-8)';

/**
 * Succeeded and failed runs per hour as stacked bars, in plain SVG (no chart library for one chart). The
 * figures are in each bar's title and in the table beside it for screen readers.
 */
export function HourlyChart({ hours }: { hours: Hour[] }) {
  const max = Math.max(1, ...hours.map((h) => h.succeeded + h.failed + h.cancelled));
  const step = (W - PAD) / Math.max(1, hours.length);
  const bar = Math.max(2, step - 3);
  const y = (n: number) => (n / max) * (H - PAD);
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        role="img"
        aria-label="Runs per hour, last 24 hours"
        style={{ maxWidth: W }}
      >
        <line x1={PAD} x2={W} y1={H - PAD} y2={H - PAD} stroke="var(--mantine-color-gray-6)" />
        <text x={0} y={12} fontSize={11} fill="var(--mantine-color-gray-8)">
          {max}
        </text>
        {hours.map((h, i) => {
          const x = PAD + i * step;
          const ok = y(h.succeeded);
          const bad = y(h.failed + h.cancelled);
          const label = `${new Date(h.hour).getHours()}:00`;
          return (
            <g key={h.hour}>
              <title>{`${label}: ${h.succeeded} succeeded, ${h.failed} failed, ${h.cancelled} cancelled`}</title>
              <rect x={x} y={H - PAD - ok} width={bar} height={ok} fill={GREEN} />
              <rect x={x} y={H - PAD - ok - bad} width={bar} height={bad} fill={RED} />
              {i % 3 === 0 && (
                <text x={x} y={H - 8} fontSize={10} fill="var(--mantine-color-gray-8)">
                  {label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <Group gap="md" component="figcaption">
        <Text size="sm">
          <span style={{ color: GREEN }}>■</span> succeeded
        </Text>
        <Text size="sm">
          <span style={{ color: RED }}>■</span> failed or cancelled
        </Text>
      </Group>
    </figure>
  );
}
