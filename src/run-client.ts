import {
  BatonApiError,
  BatonClient,
  BatonConnectionError,
  type RunEvent,
  type RunRecord,
} from '@baton/client';
import { parseOptionFlags } from './runs/option-flags.js';

/** `baton run`: submits a run with the client (@baton/client), follows its events live and prints the result. */
export interface RunCommandOptions {
  api: string;
  key: string;
  team: string;
  pattern: string;
  input: string;
  options: Record<string, string>;
  json?: boolean;
  out?: NodeJS.WritableStream;
}

function describe(event: RunEvent): string | undefined {
  switch (event.type) {
    case 'run.started':
      return event.resumed ? `run resumed (attempt ${event.attempt})` : 'run started';
    case 'agent.started':
      return `  ▸ ${event.agent}`;
    case 'agent.completed':
      return `  ✓ ${event.agent}  ${Math.round(event.durationMs)} ms  ${event.usage.inputTokens}→${event.usage.outputTokens} tokens${event.attempts > 1 ? `  (${event.attempts} attempts)` : ''}`;
    case 'agent.failed':
      return `  ✗ ${event.agent}  ${event.error.code}: ${event.error.message}`;
    case 'handoff':
      return `  ↪ handoff ${event.from} → ${event.to}`;
    case 'plan.created':
      return '  ☰ plan created';
    case 'ledger.updated':
      return `  ☰ round ${event.round}`;
    case 'replanned':
      return `  ↻ replanned (reset ${event.reset})`;
    case 'speaker.selected':
      return `  ☰ turn ${event.turn}: ${event.speaker}`;
    case 'budget.exceeded':
      return `  ! ${event.budget} budget of ${event.limit} exceeded`;
    case 'run.completed':
      return `run completed${event.partial ? ' (partial)' : ''}`;
    case 'run.failed':
      return `run failed: ${event.error.code}: ${event.error.message}`;
    case 'run.cancelled':
      return 'run cancelled';
    default:
      return undefined;
  }
}

export async function runCommand(opts: RunCommandOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const options = parseOptionFlags(opts.options);
  const client = new BatonClient({ baseUrl: opts.api, apiKey: opts.key });
  let run: RunRecord;
  try {
    run = await client.runs.create({
      team: opts.team,
      pattern: opts.pattern as RunRecord['pattern'],
      input: opts.input,
      options,
    });
  } catch (err) {
    if (err instanceof BatonApiError) {
      out.write(`error ${err.status} ${err.code}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof BatonConnectionError) {
      throw new Error(`cannot reach the baton API at ${opts.api}; is "npm start" running?`);
    }
    throw err;
  }
  out.write(`run ${run.id} queued (${run.team}, ${run.pattern})\n`);
  for await (const event of client.runs.stream(run.id)) {
    const line = describe(event);
    if (line) out.write(`${line}\n`);
  }
  const final = await client.runs.get(run.id);
  if (opts.json) {
    out.write(`${JSON.stringify(final, null, 2)}\n`);
  } else {
    if (final.output) {
      out.write(
        `\n${final.output.structured !== undefined ? JSON.stringify(final.output.structured, null, 2) : final.output.text}\n`,
      );
    }
    const u = final.usage;
    out.write(
      `\n${final.status}  ${final.durationMs ?? '?'} ms  ${u.modelCalls} model calls  ${u.inputTokens}+${u.outputTokens} tokens${u.costUsd !== undefined ? `  $${u.costUsd.toFixed(4)}` : ''}  trace ${final.traceId ?? '-'}\n`,
    );
  }
  return final.status === 'succeeded' ? 0 : 1;
}
