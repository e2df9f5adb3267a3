import { AppShell, Badge, Button, Group, NavLink, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { useSession } from '../session/session.js';

const LINKS = [
  { to: '/dashboard', label: 'Dashboard', role: 'viewer' },
  { to: '/flows', label: 'Flows', role: 'viewer' },
  { to: '/runs', label: 'Runs', role: 'viewer' },
  { to: '/connections', label: 'Connections', role: 'viewer' },
  { to: '/audit', label: 'Audit trail', role: 'admin' },
] as const;

/** The frame of every page once signed in: the header with the user, the navigation, the page. */
export function Shell({ children }: { children: ReactNode }) {
  const { user, can, signOut } = useSession();
  const { pathname } = useLocation();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'xs' }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Text fw={700} size="lg" component="span">
            Integrator
          </Text>
          <Group gap="sm">
            <Text size="sm" component="span" data-testid="user">
              {user?.login}
            </Text>
            <Badge
              variant="outline"
              color="gray"
              styles={{ label: { color: 'var(--mantine-color-gray-8)' } }}
            >
              {user?.role}
            </Badge>
            <Button variant="default" size="xs" onClick={() => signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {LINKS.filter((l) => can(l.role)).map((l) => (
          <NavLink
            key={l.to}
            component={Link}
            to={l.to}
            label={l.label}
            active={pathname === l.to || pathname.startsWith(`${l.to}/`)}
            aria-current={pathname === l.to ? 'page' : undefined}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
