const WHOLE = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const PART = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Fills a listener's JSON response template. A string that is exactly one placeholder takes the value
 * with its type (`"{rowsWritten}"` → 3); placeholders inside longer strings are replaced by text.
 * Unknown placeholders stay as they are, so a typo shows in the answer instead of vanishing.
 */
export function renderTemplate(template: unknown, facts: Readonly<Record<string, unknown>>): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole?.[1] && Object.hasOwn(facts, whole[1])) return facts[whole[1]] ?? null;
    return template.replace(PART, (m, name: string) =>
      Object.hasOwn(facts, name) ? String(facts[name] ?? '') : m,
    );
  }
  if (Array.isArray(template)) return template.map((t) => renderTemplate(t, facts));
  if (typeof template === 'object' && template !== null) {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderTemplate(v, facts)]));
  }
  return template;
}

/** The answer of a sync push when the listener defines none. */
export const DEFAULT_SYNC_BODY = {
  status: '{status}',
  runId: '{runId}',
  rowsRead: '{rowsRead}',
  rowsWritten: '{rowsWritten}',
};

/** The answer of a failed run when the listener defines none: the API's error shape plus the run. */
export const DEFAULT_ERROR_BODY = {
  error: { code: '{errorCode}', message: '{error}', runId: '{runId}', requestId: '{requestId}' },
};
