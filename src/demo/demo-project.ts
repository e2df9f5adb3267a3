import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import SQLite from 'better-sqlite3';
import type { Context } from '../context.js';

const SYSTEM = { name: 'system' };

/**
 * The demo a newcomer sees on first start: a SQLite database with `role` and `patient`, a folder for
 * output files, and the flows that make the documented curl calls work at once. Created only when the
 * store has no definitions yet, so it never overwrites a user's work. Its files live in the first file
 * root (by default `files` in the data directory), where connections may use them.
 */
export async function createDemoProject(ctx: Context): Promise<boolean> {
  const existing = await ctx.store.db.selectFrom('definitions').select('name').limit(1).executeTakeFirst();
  if (existing) return false;

  const root = ctx.settings.fileRoots[0] ?? join(ctx.settings.dataDir, 'files');
  // As the connections name them: relative to the data directory when inside it.
  const shown = (p: string) => {
    const rel = relative(ctx.settings.dataDir, p);
    return rel.startsWith('..') ? p : rel;
  };
  mkdirSync(join(root, 'output'), { recursive: true });
  const dbFile = join(root, 'demo.db');
  const db = new SQLite(dbFile);
  try {
    db.exec(`
      create table if not exists role (role integer primary key, name text not null);
      insert or ignore into role (role, name) values (1, 'admin'), (2, 'editor'), (3, 'operator');
      create table if not exists patient (patientid integer primary key, name text, birthdate text);
    `);
  } finally {
    db.close();
  }

  await ctx.definitions.put(
    'connection',
    'demo',
    { type: 'sqlite', path: shown(dbFile), description: 'Demo database' },
    SYSTEM,
  );
  await ctx.definitions.put(
    'connection',
    'output',
    {
      type: 'files',
      root: shown(join(root, 'output')),
      description: 'Folder for files the demo flows write',
    },
    SYSTEM,
  );
  await ctx.definitions.put(
    'flow',
    'flow_with_parameters',
    {
      type: 'transfer',
      description: 'Writes the role with the given id to role-<roleid>.csv in the output folder',
      parameters: { roleid: { type: 'integer', description: 'Which role to export' } },
      steps: [
        {
          from: { connection: 'demo', query: 'select * from role where role = {roleid}' },
          to: { connection: 'output', file: 'role-{roleid}.csv', mode: 'replace' },
        },
      ],
    },
    SYSTEM,
  );
  await ctx.definitions.put(
    'flow',
    'my-flow',
    {
      type: 'transfer',
      description: 'Copies every patient to patients.csv in the output folder',
      steps: [
        {
          from: { connection: 'demo', table: 'patient' },
          to: { connection: 'output', file: 'patients.csv', mode: 'replace' },
        },
      ],
    },
    SYSTEM,
  );
  await ctx.definitions.put(
    'flow',
    'hl7-patient-in',
    {
      type: 'transfer',
      description: 'Upserts the patients of a listener request into the table patient',
      steps: [
        {
          from: { connection: '@request' },
          to: { connection: 'demo', table: 'patient', mode: 'upsert', keys: ['patientid'] },
        },
      ],
    },
    SYSTEM,
  );
  await ctx.definitions.put(
    'flow',
    'patient-by-id',
    {
      type: 'transfer',
      description: 'Answers one patient by id (the data API patients/{patientid})',
      parameters: { patientid: { type: 'integer' } },
      steps: [
        {
          from: { connection: 'demo', query: 'select * from patient where patientid = {patientid}' },
          to: { connection: '@response' },
        },
      ],
    },
    SYSTEM,
  );
  await ctx.definitions.put(
    'listener',
    'hl7-patient',
    {
      path: 'hl7/patient',
      methods: ['POST'],
      flow: 'hl7-patient-in',
      description: 'Push patients as JSON (object or array), CSV with a header row, or XML',
    },
    SYSTEM,
  );
  await ctx.definitions.put(
    'listener',
    'patient',
    {
      path: 'patients/{patientid}',
      methods: ['GET'],
      flow: 'patient-by-id',
      response: { single: true },
      description: 'One patient as a JSON object; 404 when there is none',
    },
    SYSTEM,
  );
  return true;
}
