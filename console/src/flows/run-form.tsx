import { Button, Checkbox, Group, Stack, Text, TextInput } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { ApiError, withQuery } from '../api/client.js';
import type { Flow, ParameterDef } from '../api/types.js';
import { ErrorAlert } from '../components/error-alert.js';
import { useSession } from '../session/session.js';
import { checkParameter, runQuery } from './parameter-values.js';

function initial(params: Record<string, ParameterDef>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, def] of Object.entries(params))
    out[name] = def.type === 'boolean' && def.default !== undefined ? String(def.default) : '';
  return out;
}

function ParameterField({
  name,
  def,
  value,
  error,
  onChange,
  first,
}: {
  first: boolean;
  name: string;
  def: ParameterDef;
  value: string;
  error: string | undefined;
  onChange: (v: string) => void;
}) {
  const hint = [
    def.type,
    def.description,
    def.default !== undefined && def.default !== null ? `default ${String(def.default)}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  if (def.type === 'boolean') {
    return (
      <Checkbox
        label={name}
        description={hint}
        checked={value === 'true'}
        data-autofocus={first || undefined}
        onChange={(e) => onChange(e.currentTarget.checked ? 'true' : 'false')}
        error={error}
      />
    );
  }
  const required = def.required ?? (def.default === undefined || def.default === null);
  return (
    <TextInput
      label={name}
      name={name}
      description={hint}
      required={required}
      type={def.type === 'date' ? 'date' : 'text'}
      inputMode={def.type === 'integer' ? 'numeric' : def.type === 'number' ? 'decimal' : undefined}
      placeholder={def.default !== undefined && def.default !== null ? String(def.default) : undefined}
      value={value}
      error={error}
      data-autofocus={first || undefined}
      onChange={(e) => onChange(e.currentTarget.value)}
    />
  );
}

/**
 * The run form of a flow: one field per declared parameter, typed by the declaration, checked as the
 * server will; submitting queues the run (`?async=true`) and hands its id on.
 */
export function RunForm({ flow, onStarted }: { flow: Flow; onStarted: (runId: string) => void }) {
  const { api } = useSession();
  const params = flow.parameters ?? {};
  const [values, setValues] = useState(() => initial(params));
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [failure, setFailure] = useState<Error>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found: Record<string, string | undefined> = {};
    for (const [name, def] of Object.entries(params))
      found[name] = checkParameter(name, def, values[name] ?? '');
    setErrors(found);
    if (Object.values(found).some((v) => v !== undefined)) return;
    setBusy(true);
    setFailure(undefined);
    try {
      const path = withQuery(`/rest/v1/flows/flow-name/${encodeURIComponent(flow.name)}/run`, {
        ...runQuery(values),
        async: 'true',
      });
      const started = await api.post<{ runId: string }>(path);
      onStarted(started.runId);
    } catch (err) {
      // A parameter the server refuses is shown at its field.
      if (err instanceof ApiError) {
        const m = /parameter '([^']+)'/.exec(err.message);
        if (m?.[1] && m[1] in params) setErrors({ [m[1]]: err.message });
      }
      setFailure(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  }

  const names = Object.keys(params);
  return (
    <form onSubmit={submit} aria-label={`Run ${flow.name}`} noValidate>
      <Stack>
        {names.length === 0 && <Text size="sm">This flow takes no parameters.</Text>}
        {Object.entries(params).map(([name, def], i) => (
          <ParameterField
            key={name}
            first={i === 0}
            name={name}
            def={def}
            value={values[name] ?? ''}
            error={errors[name]}
            onChange={(v) => setValues((old) => ({ ...old, [name]: v }))}
          />
        ))}
        <ErrorAlert error={failure} title="The run did not start" />
        <Group>
          <Button type="submit" loading={busy} data-autofocus={names.length === 0 || undefined}>
            Start run
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
