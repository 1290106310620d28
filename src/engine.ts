import type { Logger } from 'pino';
import { z } from 'zod';
import { RunBudget } from './agents/budget.js';
import { type AgentRuntime, spendOf } from './agents/runtime.js';
import { definitionVersion, type TeamDefinition } from './agents/schema.js';
import {
  AgentFailedError,
  BatonError,
  BudgetExceededError,
  CircuitOpenError,
  DeadlineExceededError,
  InvalidRunError,
  ModelError,
  RunCancelledError,
  RunInterruptedError,
  toErrorInfo,
} from './errors.js';
import { renderTask } from './orchestrators/messages.js';
import type { AgentCall, AgentResult, Orchestrator, RunContext, RunResult } from './orchestrators/types.js';
import { seededRandom } from './random.js';
import type { EventSink } from './runs/events.js';
import { type JournalEntry, type RunJournal, stepsFromJournal } from './runs/journal.js';
import {
  type ErrorInfo,
  type Pattern,
  type RunEventInput,
  type RunOutput,
  type RunRequest,
  type RunUsage,
  resolveRunOptions,
  type StepRecord,
} from './runs/schema.js';
import {
  ATTR_BATON_PATTERN,
  ATTR_BATON_RUN_ATTEMPT,
  ATTR_BATON_RUN_ID,
  ATTR_BATON_RUN_RESUMED,
  ATTR_BATON_RUN_STATUS,
  ATTR_BATON_STEP_DECISION,
  ATTR_BATON_STEP_KEY,
  ATTR_BATON_TEAM,
} from './telemetry/attributes.js';
import { recordAgentCall, recordRun } from './telemetry/metrics.js';
import {
  recordSpanError,
  spanNames,
  withAgentContext,
  withRunContext,
  withSpan,
} from './telemetry/tracing.js';

export interface EngineDeps {
  runtime: AgentRuntime;
  teams: ReadonlyMap<string, TeamDefinition>;
  orchestrators: ReadonlyMap<Pattern, Orchestrator>;
  log: Logger;
  /** Put agent text on `agent.completed` events (BATON_CAPTURE_CONTENT). */
  captureContent?: boolean;
  now?: () => number;
}

export interface ExecuteInput {
  runId: string;
  request: RunRequest;
  /** 1 on the first execution; more after a crash, a retried job or a hand-over. */
  attempt: number;
  journal: RunJournal;
  events: EventSink;
  /** Aborts in-flight model calls: cancellation (reason `RunCancelledError`). */
  signal?: AbortSignal;
  /** Stops the run at the next step boundary without aborting the call in flight (worker shutdown). */
  drain?: AbortSignal;
  /** When the run first started (ms since epoch): the deadline counts from here across attempts. */
  firstStartedAt?: number;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  output?: RunOutput;
  partial?: boolean;
  failedAgents?: string[];
  details?: Record<string, unknown>;
  error?: ErrorInfo;
  usage: RunUsage;
  steps: StepRecord[];
  definitionVersion: string;
}

export function resolveTeam(teams: ReadonlyMap<string, TeamDefinition>, request: RunRequest): TeamDefinition {
  const team = teams.get(request.team);
  if (!team) {
    throw new InvalidRunError(
      `Unknown team "${request.team}". Known teams: ${[...teams.keys()].join(', ')}.`,
    );
  }
  return team;
}

/**
 * Executes one run: builds the `RunContext`, picks the pattern's orchestrator and turns its result (or error)
 * into an outcome. Journaled steps replay; everything else runs live. Throws only `RunInterruptedError`
 * (drain: resume elsewhere) and infrastructure errors (the job is retried; the journal makes that cheap).
 */
export async function execute(input: ExecuteInput, deps: EngineDeps): Promise<RunOutcome> {
  const { runId, request, journal, events } = input;
  const team = resolveTeam(deps.teams, request);
  const version = definitionVersion(team);
  const options = resolveRunOptions(request.options);
  const budget = new RunBudget(options.maxTokens, options.maxModelCalls);
  const now = deps.now ?? Date.now;

  const controller = new AbortController();
  const onCancel = () => controller.abort(input.signal?.reason ?? new RunCancelledError());
  if (input.signal?.aborted) onCancel();
  else input.signal?.addEventListener('abort', onCancel, { once: true });
  let deadlineTimer: NodeJS.Timeout | undefined;
  if (options.deadlineMs !== undefined) {
    const remaining = options.deadlineMs - (now() - (input.firstStartedAt ?? now()));
    const expire = () => controller.abort(new DeadlineExceededError(options.deadlineMs ?? 0));
    if (remaining <= 0) expire();
    else deadlineTimer = setTimeout(expire, remaining);
  }
  const signal = controller.signal;

  const boundary = () => {
    signal.throwIfAborted();
    if (input.drain?.aborted) throw new RunInterruptedError();
  };
  const emit = (event: RunEventInput) => events.append(runId, event);
  let budgetReported = false;
  const random = seededRandom(options.seed);

  for (const [, entry] of journal.entries()) {
    if (entry.kind === 'agent') budget.replay(entry.usage, entry.modelCalls, entry.costUsd);
  }
  const replayedKeys = new Set(journal.entries().map(([k]) => k));

  const agent = (name: string) => {
    const found = team.agents.find((a) => a.name === name);
    if (!found) throw new InvalidRunError(`Team "${team.name}" has no agent "${name}".`);
    return found;
  };

  const callAgent = async (call: AgentCall): Promise<AgentResult> => {
    const recorded = journal.get(call.key);
    if (recorded?.kind === 'agent') {
      recordAgentCall({ agent: call.agent, outcome: 'replayed', durationMs: 0 });
      if (recorded.ok) return recorded.result;
      throw new AgentFailedError(recorded.agent, new BatonError(recorded.error.code, recorded.error.message));
    }
    boundary();
    const definition = agent(call.agent);
    const startMs = now();
    const startedAt = new Date(startMs).toISOString();
    await emit({ type: 'agent.started', agent: call.agent, step: call.key });
    let deltas = Promise.resolve();
    const onDelta = options.stream
      ? (text: string) => {
          deltas = deltas.then(() => emit({ type: 'agent.delta', agent: call.agent, step: call.key, text }));
        }
      : undefined;
    try {
      const result = await withAgentContext(call.agent, () =>
        deps.runtime.invoke({
          agent: definition,
          call,
          seed: options.seed,
          signal,
          budget,
          ...(options.model ? { modelOverride: options.model } : {}),
          ...(onDelta ? { onDelta } : {}),
        }),
      );
      await deltas;
      const entry: JournalEntry = {
        kind: 'agent',
        ok: true,
        result,
        usage: result.usage,
        modelCalls: result.attempts,
        ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
        startedAt,
        completedAt: new Date(now()).toISOString(),
      };
      await journal.put(call.key, entry);
      await emit({
        type: 'agent.completed',
        agent: call.agent,
        step: call.key,
        durationMs: result.durationMs,
        attempts: result.attempts,
        usage: entry.usage,
        ...(deps.captureContent ? { text: result.text } : {}),
      });
      return result;
    } catch (err) {
      await deltas.catch(() => {});
      if (err instanceof BudgetExceededError) {
        if (!budgetReported) {
          budgetReported = true;
          const d = err.details as { budget: 'tokens' | 'modelCalls'; limit: number; used: number };
          await emit({ type: 'budget.exceeded', budget: d.budget, limit: d.limit, used: d.used });
        }
        throw err;
      }
      if (signal.aborted) throw signal.reason;
      if (!(err instanceof ModelError || err instanceof CircuitOpenError)) throw err;
      const { attempts, spent } = spendOf(err);
      const error = toErrorInfo(err);
      await journal.put(call.key, {
        kind: 'agent',
        ok: false,
        agent: call.agent,
        error,
        attempts,
        durationMs: now() - startMs,
        usage: spent.usage,
        modelCalls: attempts,
        ...(spent.costUsd !== undefined ? { costUsd: spent.costUsd } : {}),
        startedAt,
        completedAt: new Date(now()).toISOString(),
      });
      await emit({ type: 'agent.failed', agent: call.agent, step: call.key, attempts, error });
      throw new AgentFailedError(call.agent, err);
    }
  };

  const ctx: RunContext = {
    runId,
    pattern: request.pattern,
    team,
    input: renderTask(request.input),
    options,
    signal,
    budget,
    log: deps.log.child({ runId, pattern: request.pattern, team: team.name }),
    agent,
    callAgent,
    async step<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const recorded = journal.get(key);
      if (recorded?.kind === 'step') return recorded.value as T;
      boundary();
      return withSpan(spanNames.step(key), { attributes: { [ATTR_BATON_STEP_KEY]: key } }, async (span) => {
        const value = await fn();
        // A decision that is a plain value (a route, a verdict, a count) is the step's attribute; structured
        // values may carry content and stay in the journal.
        if (['string', 'number', 'boolean'].includes(typeof value)) {
          span.setAttribute(ATTR_BATON_STEP_DECISION, value as string | number | boolean);
        }
        await journal.put(key, { kind: 'step', value, completedAt: new Date(now()).toISOString() });
        return value;
      });
    },
    emit,
    breakerState: (name) => deps.runtime.breakerState(name),
    random,
    now,
  };

  const orchestrator = deps.orchestrators.get(request.pattern);
  const finish = (partial: Omit<RunOutcome, 'usage' | 'steps' | 'definitionVersion'>): RunOutcome => ({
    ...partial,
    usage: budget.usage(),
    steps: stepsFromJournal(journal.entries()),
    definitionVersion: version,
  });

  const run = { runId, pattern: request.pattern, team: team.name };
  const started = now();
  const finished = (status: RunOutcome['status'], errorCode?: string) =>
    recordRun({
      pattern: request.pattern,
      team: team.name,
      status,
      durationMs: now() - started,
      ...(errorCode ? { errorType: errorCode } : {}),
    });

  // Every span and log line inside carries the run id (withRunContext); the run span is the root of the work.
  return withRunContext(run, () =>
    withSpan(
      spanNames.run(request.pattern),
      {
        attributes: {
          [ATTR_BATON_RUN_ID]: runId,
          [ATTR_BATON_PATTERN]: request.pattern,
          [ATTR_BATON_TEAM]: team.name,
          [ATTR_BATON_RUN_ATTEMPT]: input.attempt,
          [ATTR_BATON_RUN_RESUMED]: input.attempt > 1 || replayedKeys.size > 0,
        },
      },
      async (span) => {
        try {
          if (!orchestrator) throw new InvalidRunError(`Pattern "${request.pattern}" is not available.`);
          await emit({
            type: 'run.started',
            attempt: input.attempt,
            resumed: input.attempt > 1 || replayedKeys.size > 0,
          });
          const result: RunResult = await orchestrator.run(ctx);
          checkTeamOutput(team, result);
          span.setAttribute(ATTR_BATON_RUN_STATUS, 'succeeded');
          finished('succeeded');
          return finish({
            status: 'succeeded',
            output: result.output,
            ...(result.partial ? { partial: true } : {}),
            ...(result.failedAgents?.length ? { failedAgents: result.failedAgents } : {}),
            ...(result.details ? { details: result.details } : {}),
          });
        } catch (err) {
          if (err instanceof RunInterruptedError || !(err instanceof BatonError)) throw err;
          const status = err instanceof RunCancelledError ? 'cancelled' : 'failed';
          span.setAttribute(ATTR_BATON_RUN_STATUS, status);
          if (status === 'failed') recordSpanError(span, err);
          finished(status, err.code);
          return finish({ status, error: toErrorInfo(err) });
        } finally {
          clearTimeout(deadlineTimer);
          input.signal?.removeEventListener('abort', onCancel);
        }
      },
    ),
  );
}

function checkTeamOutput(team: TeamDefinition, result: RunResult): void {
  if (!team.outputSchema || result.output.structured === undefined) return;
  const parsed = team.outputSchema.safeParse(result.output.structured);
  if (!parsed.success) {
    throw new BatonError(
      'OUTPUT_INVALID',
      `The run's output does not match team "${team.name}"'s output schema.`,
      {
        problems: z.prettifyError(parsed.error),
      },
    );
  }
}
