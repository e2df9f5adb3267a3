/**
 * A step's `to.responses`: its HTTP destination's answers, one row per request, written to another
 * destination (a table of results, a file) or to a listener's `@response`, while the requests go out.
 * That destination commits after the last request, with the step; a failed step rolls it back, and the
 * run log says what the API took (Writer.leftBehind).
 */
import type { AnswerSink } from '../connectors/http/http-answers.js';
import { answerColumns } from '../connectors/http/http-answers.js';
import { AppError, errorMessage } from '../core/errors.js';
import { RESPONSE_TARGET, type ResponsesTarget, type TransferStep } from './flow-schema.js';
import { RowChannel } from './row-channel.js';
import type { StepEnv } from './step-env.js';
import { destinationSpec } from './step-specs.js';

export interface StepResponses {
  /** Handed to the HTTP destination's writer (DestinationSpec.answers). */
  sink: AnswerSink;
  /** After the last request: ends the rows, commits their destination; the rows it took. */
  finish(): Promise<number>;
  /** The step failed: the answers' destination rolls back (a listener's answer fails). */
  abort(err: unknown): Promise<void>;
}

/**
 * Opens the destination of the step's answers (before any request goes out, so one that cannot open
 * sends nothing); undefined when the step keeps none.
 */
export async function startResponses(
  step: TransferStep,
  env: StepEnv,
  path: string,
): Promise<StepResponses | undefined> {
  const target = step.to.responses;
  if (target === undefined) return undefined;
  const r: ResponsesTarget = target;
  const where = `${path}.to.responses`;
  const headers = r.headers ?? [];
  const body = r.body ?? 'json';
  const channel = new RowChannel();
  const rows = channel.stream();

  let done: Promise<number>;
  if (r.connection === RESPONSE_TARGET) {
    const respond = env.io?.response;
    if (!respond) {
      throw new AppError('BAD_REQUEST', `${where}: ${RESPONSE_TARGET} is only available to a listener`);
    }
    done = respond(rows);
  } else {
    const connector = await env.pool.get(r.connection);
    const spec = destinationSpec(r, answerColumns(headers, body), env, where);
    // The step's commit mark belongs to its own destination; recorded here too, a run executing again
    // would take the step for committed and skip requests it never sent.
    delete spec.commit;
    const writer = await connector.writer(spec, env.signal);
    done = (async () => {
      try {
        for await (const batch of rows) await writer.write(batch);
        return (await writer.commit()).rowsWritten;
      } catch (err) {
        await writer
          .rollback()
          .catch((e: unknown) => env.log('error', `${where}: rollback failed: ${errorMessage(e)}`));
        throw err;
      }
    })();
  }
  // A destination that fails (refuses a row, loses its connection) stops the requests: the next push
  // throws, naming it.
  done.catch((err: unknown) => channel.fail(inResponses(err, where)));
  return {
    sink: { headers, body, write: (batch) => channel.push(batch) },
    async finish() {
      channel.end();
      return done.catch((err: unknown) => {
        throw inResponses(err, where);
      });
    },
    async abort(err) {
      channel.fail(err);
      await done.catch(() => undefined);
    },
  };
}

function inResponses(err: unknown, where: string): unknown {
  if (!(err instanceof AppError) || err.code === 'RUN_CANCELLED' || err.message.startsWith(where)) return err;
  return new AppError(err.code, `${where}: ${err.message}`, { cause: err });
}
