import type { AgentRuntime } from '../agents/runtime.js';
import type { AgentDefinition } from '../agents/schema.js';
import type { AgentCall, AgentResult } from '../core/agent.js';
import {
  AgentFailedError,
  BatonError,
  BudgetExceededError,
  CircuitOpenError,
  ModelError,
  toErrorInfo,
} from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { AgentCallSettlement, EngineHooks } from '../core/hooks.js';
import type { HumanAnswer } from '../core/run.js';
import type { ResolvedCommonRunOptions } from '../core/run-options.js';
import { isoTime } from '../core/time.js';
import type { RunGuardrails } from '../guardrails/index.js';
import type { RunBudget } from '../policies/budget.js';
import type { JournalEntry, RunJournal } from '../runs/journal.js';
import type { HumanAsk } from './human-input.js';
import type { RunSignal } from './run-signal.js';
import { type Tooling, toolLoopFor } from './tool-step.js';

/** What a journaled agent call needs from the run it belongs to. */
export interface AgentStepScope {
  journal: RunJournal;
  runtime: AgentRuntime;
  budget: RunBudget;
  options: ResolvedCommonRunOptions;
  run: RunSignal;
  hooks: EngineHooks;
  emit(event: RunEventInput): Promise<void>;
  agent(name: string): AgentDefinition;
  now(): number;
  captureContent: boolean;
  /** The worker's tools (absent: agents' tools are not offered). */
  tooling?: Tooling | undefined;
  /** Asks a person (approvals of tool calls). */
  human?: ((key: string, ask: HumanAsk) => Promise<HumanAnswer>) | undefined;
  /** The run's guardrails, when its team or the operator turns any on. */
  guardrails?: RunGuardrails | undefined;
}

/** The agent's tool loop when it declares tools and the worker has them. */
async function toolLoopOf(scope: AgentStepScope, call: AgentCall, definition: AgentDefinition) {
  const tooling = scope.tooling;
  if (!tooling || definition.tools.length === 0) return undefined;
  const tools = await tooling.runtime.toolsFor(tooling.team, definition.tools);
  return toolLoopFor({ ...scope, tooling }, call, tools, definition.maxToolRounds);
}

/**
 * `ctx.callAgent`: an agent call as a journaled step. A journaled result (or failure) is replayed; otherwise the
 * call runs through the runtime's policies and its result — success or ultimate failure, with what it spent — is
 * journaled before anyone sees it, and reported as `agent.*` events. A spent budget is reported once per run.
 */
export function journaledAgentCall(scope: AgentStepScope): (call: AgentCall) => Promise<AgentResult> {
  let budgetReported = false;
  const reportBudget = async (err: BudgetExceededError) => {
    if (budgetReported) return;
    budgetReported = true;
    const d = err.details as { budget: 'tokens' | 'modelCalls'; limit: number; used: number };
    await scope.emit({ type: 'budget.exceeded', budget: d.budget, limit: d.limit, used: d.used });
  };

  return async (call) => {
    const recorded = scope.journal.get(call.key);
    if (recorded?.kind === 'agent') {
      scope.hooks.agentReplayed(call.agent);
      if (recorded.ok) return recorded.result;
      throw new AgentFailedError(recorded.agent, new BatonError(recorded.error.code, recorded.error.message));
    }
    scope.run.boundary();
    const definition = scope.agent(call.agent);
    return scope.hooks.agentStep(call.agent, async () => {
      const startedAt = scope.now();
      await begin(scope, { type: 'agent.started', agent: call.agent, step: call.key });
      const deltas = deltaStream(scope, call);
      const onAttemptFailed = (f: { attempt: number; error: unknown; durationMs: number }) =>
        deltas.then({
          type: 'agent.attempt.failed',
          agent: call.agent,
          step: call.key,
          attempt: f.attempt,
          durationMs: f.durationMs,
          error: toErrorInfo(f.error),
        });
      let settled: AgentCallSettlement;
      try {
        // One shape for every call (absent parts undefined): conditional spreads cost a copy each, every step.
        settled = await scope.runtime.invoke({
          tools: await toolLoopOf(scope, call, definition),
          agent: definition,
          call,
          seed: scope.options.seed,
          signal: scope.run.signal,
          deadlineAt: scope.run.deadlineAt,
          budget: scope.budget,
          modelOverride: scope.options.model,
          onDelta: deltas.onDelta,
          onAttemptFailed,
          guardrails: scope.guardrails,
        });
      } catch (err) {
        await deltas.flushed().catch(() => {});
        if (err instanceof BudgetExceededError) await reportBudget(err);
        throw err;
      }
      if (settled.ok) {
        await deltas.flushed();
        return completed(scope, call, settled.result, settled.requests, startedAt);
      }
      await deltas.flushed().catch(() => {});
      const { error } = settled;
      if (error instanceof BudgetExceededError) {
        await reportBudget(error);
        throw error;
      }
      if (scope.run.signal.aborted) throw scope.run.signal.reason;
      if (!(error instanceof ModelError || error instanceof CircuitOpenError)) throw error;
      await failed(scope, call, settled, startedAt);
      throw new AgentFailedError(call.agent, error);
    });
  };
}

/** Before a model call: the attempt check and `agent.started`, in one round trip when the journal writes events. */
async function begin(scope: AgentStepScope, event: RunEventInput): Promise<void> {
  const { journal } = scope;
  if (journal.steps) return journal.steps.announce(event);
  await journal.assertCurrent?.();
  await scope.emit(event);
}

/** Journals a step's entry, then reports it: in one fenced write when the journal writes events. */
async function journalAndReport(
  scope: AgentStepScope,
  key: string,
  entry: JournalEntry,
  event: RunEventInput,
): Promise<void> {
  const { journal } = scope;
  if (journal.steps) return journal.steps.complete(key, entry, event);
  await journal.put(key, entry);
  await scope.emit(event);
}

/**
 * Events of a call in flight, in order: streamed text as `agent.delta` (when the run streams) and each failed
 * attempt as `agent.attempt.failed`; `flushed` waits until all are written.
 */
function deltaStream(scope: AgentStepScope, call: AgentCall) {
  // No chain until there is an event: most calls stream nothing and fail no attempt.
  let chain: Promise<void> | undefined;
  const then = (event: RunEventInput) => {
    chain = chain ? chain.then(() => scope.emit(event)) : scope.emit(event);
  };
  const onDelta = scope.options.stream
    ? (text: string) => then({ type: 'agent.delta', agent: call.agent, step: call.key, text })
    : undefined;
  return { onDelta, then, flushed: () => chain ?? settledChain };
}

const settledChain: Promise<void> = Promise.resolve();

async function completed(
  scope: AgentStepScope,
  call: AgentCall,
  result: AgentResult,
  requests: number,
  startedAt: number,
): Promise<AgentResult> {
  const entry: JournalEntry = {
    kind: 'agent',
    ok: true,
    result,
    usage: result.usage,
    modelCalls: requests,
    ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
    startedAt: isoTime(startedAt),
    completedAt: isoTime(scope.now()),
    order: performance.timeOrigin + performance.now(),
  };
  await journalAndReport(scope, call.key, entry, {
    type: 'agent.completed',
    agent: call.agent,
    step: call.key,
    durationMs: result.durationMs,
    attempts: result.attempts,
    usage: entry.usage,
    ...(scope.captureContent ? { text: result.text } : {}),
  });
  return result;
}

async function failed(
  scope: AgentStepScope,
  call: AgentCall,
  settled: Extract<AgentCallSettlement, { ok: false }>,
  startedAt: number,
): Promise<void> {
  const { attempts, spent } = settled;
  const error = toErrorInfo(settled.error);
  const entry: JournalEntry = {
    kind: 'agent',
    ok: false,
    agent: call.agent,
    error,
    attempts,
    durationMs: scope.now() - startedAt,
    usage: spent.usage,
    modelCalls: spent.requests,
    ...(spent.costUsd !== undefined ? { costUsd: spent.costUsd } : {}),
    startedAt: isoTime(startedAt),
    completedAt: isoTime(scope.now()),
    order: performance.timeOrigin + performance.now(),
  };
  await journalAndReport(scope, call.key, entry, {
    type: 'agent.failed',
    agent: call.agent,
    step: call.key,
    attempts,
    error,
  });
}
