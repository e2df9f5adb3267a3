import { Alert, List } from '@mantine/core';
import { ApiError } from '../api/client.js';

/** An API error as the user sees it: the server's message, and each field it names. */
export function ErrorAlert({
  error,
  title = 'Something went wrong',
}: {
  error: Error | undefined;
  title?: string;
}) {
  if (!error) return null;
  const details = error instanceof ApiError ? error.details : [];
  return (
    <Alert color="red" title={title} role="alert">
      {error.message}
      {details.length > 0 && (
        <List size="sm" mt="xs">
          {details.map((d) => (
            <List.Item key={d.path}>
              <code>{d.path}</code>: {d.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
