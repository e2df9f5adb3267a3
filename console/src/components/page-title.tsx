import { Title } from '@mantine/core';
import { type ReactNode, useEffect } from 'react';

/** The page's one h1, also the document title (what a screen reader announces on navigation). */
export function PageTitle({ children, text }: { children: ReactNode; text: string }) {
  useEffect(() => {
    document.title = `${text} · Integrator`;
  }, [text]);
  return (
    <Title order={1} size="h2" mb="md">
      {children}
    </Title>
  );
}
