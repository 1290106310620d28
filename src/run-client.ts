import { createParser } from 'eventsource-parser';
import { type RunEvent, terminalEventTypes } from './core/events.js';
import { parseOptionFlags } from './runs/option-flags.js';
import type { RunRecord } from './runs/schema.js';

/** `baton run`: a small API client that submits a run, follows its SSE stream and prints the result. */
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

async function apiCall(base: string, key: string, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(new URL(path, base), {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
    });
  } catch (err) {
    throw new Error(
      `cannot reach the baton API at ${base} (${(err as Error).message}); is "npm start" running?`,
    );
  }
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
  const created = await apiCall(opts.api, opts.key, '/v1/runs', {
    method: 'POST',
    body: JSON.stringify({ team: opts.team, pattern: opts.pattern, input: opts.input, options }),
  });
  const body = (await created.json()) as RunRecord & { error?: { code: string; message: string } };
  if (!created.ok) {
    out.write(`error ${created.status} ${body.error?.code}: ${body.error?.message}\n`);
    return 1;
  }
  out.write(`run ${body.id} queued (${body.team}, ${body.pattern})\n`);

  const stream = await apiCall(opts.api, opts.key, `/v1/runs/${body.id}/events`, {
    headers: { accept: 'text/event-stream' },
  });
  if (!stream.ok || !stream.body)
    throw new Error(`could not follow the run's events (HTTP ${stream.status})`);
  let done = false;
  const parser = createParser({
    onEvent(message) {
      const event = JSON.parse(message.data) as RunEvent;
      const line = describe(event);
      if (line) out.write(`${line}\n`);
      if (terminalEventTypes.includes(event.type)) done = true;
    },
  });
  const decoder = new TextDecoder();
  const reader = stream.body.getReader();
  while (!done) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  await reader.cancel().catch(() => {});

  const final = (await (await apiCall(opts.api, opts.key, `/v1/runs/${body.id}`)).json()) as RunRecord;
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
