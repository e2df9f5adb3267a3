import { Center, Loader } from '@mantine/core';
import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { Shell } from './components/shell.js';
import { SignInPage } from './pages/sign-in-page.js';
import { useSession } from './session/session.js';

// Each page is its own chunk: the sign-in page loads only what it needs.
const FlowsPage = lazy(() => import('./pages/flows-page.js'));
const FlowPage = lazy(() => import('./pages/flow-page.js'));
const RunsPage = lazy(() => import('./pages/runs-page.js'));
const RunPage = lazy(() => import('./pages/run-page.js'));
const AuditPage = lazy(() => import('./pages/audit-page.js'));
const DashboardPage = lazy(() => import('./pages/dashboard-page.js'));
const ConnectionsPage = lazy(() => import('./pages/connections-page.js'));

function Loading() {
  return (
    <Center p="xl">
      <Loader aria-label="Loading" />
    </Center>
  );
}

export function App() {
  const { user, can } = useSession();
  const location = useLocation();
  if (!user) {
    if (location.pathname === '/sign-in') return <SignInPage />;
    const back = `${location.pathname}${location.search}`;
    return <Navigate to={`/sign-in${back === '/' ? '' : `?next=${encodeURIComponent(back)}`}`} replace />;
  }
  return (
    <Shell>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<Navigate to="/flows" replace />} />
          <Route path="/sign-in" element={<Navigate to="/flows" replace />} />
          <Route path="/dashboard" element={<DashboardPage />} />
          <Route path="/flows" element={<FlowsPage />} />
          <Route path="/flows/:name" element={<FlowPage />} />
          <Route path="/runs" element={<RunsPage />} />
          <Route path="/runs/:id" element={<RunPage />} />
          <Route path="/connections" element={<ConnectionsPage />} />
          {can('admin') && <Route path="/audit" element={<AuditPage />} />}
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Suspense>
    </Shell>
  );
}

function NotFound() {
  return <p>There is no page here.</p>;
}
