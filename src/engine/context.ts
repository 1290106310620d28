import type { AgentDefinition } from '../agents/schema.js';
import { InvalidRunError } from '../core/errors.js';
import type { EngineHooks } from '../core/hooks.js';
import type { InputPort } from '../core/ports.js';
import { seededRandom } from '../core/random.js';
import type { PendingInput } from '../core/run.js';
import type { RunContext } from '../core/run-context.js';
import type { ResolvedCommonRunOptions } from '../core/run-options.js';
import { isoTime } from '../core/time.js';
import type { RunGuardrails } from '../guardrails/index.js';
import { renderTask } from '../orchestrators/messages.js';
import type { RunBudget } from '../policies/budget.js';
import type { EventSink } from '../runs/events.js';
import type { RunJournal } from '../runs/journal.js';
import type { RunRequest } from '../runs/schema.js';
import type { TeamDefinition } from '../teams/schema.js';
import { journaledAgentCall } from './agent-step.js';
import { withAskHuman } from './ask-human.js';
import { builtInSummarizer, contextWindow } from './context-window.js';
import type { EngineDeps } from './deps.js';
import { humanStep } from './human-input.js';
import type { RunSignal } from './run-signal.js';

export interface RunScope {
  runId: string;
  request: RunRequest;
  team: TeamDefinition;
  options: ResolvedCommonRunOptions & Record<string, unknown>;
  journal: RunJournal;
  events: EventSink;
  budget: RunBudget;
  run: RunSignal;
  hooks: EngineHooks;
  now: () => number;
  /** Closes expired human-input requests (the run lifecycle's, in a worker). */
  inputs: InputPort | undefined;
  /** Requests for a person this execution reached without an answer. */
  waiting: PendingInput[];
  guardrails?: RunGuardrails | undefined;
}

/**
 * The `RunContext` an orchestrator runs over: the team, its wiring for the pattern, the resolved options, and
 * every effect — agent calls, pattern steps, events — journaled or routed through the run's signal.
 */
export function buildRunContext(
  scope: RunScope,
  deps: EngineDeps,
): RunContext<unknown, Record<string, unknown>> {
  const { runId, request, team, journal, run, hooks, now } = scope;
  const emit = (event: Parameters<EventSink['append']>[1]) => scope.events.append(runId, event);
  const summarizer = team.summarizer ? team.agents.find((a) => a.name === team.summarizer) : undefined;
  const agent = (name: string): AgentDefinition => {
    const found = team.agents.find((a) => a.name === name);
    if (found) return found;
    if (name === builtInSummarizer.name && !summarizer) return builtInSummarizer;
    throw new InvalidRunError(`Team "${team.name}" has no agent "${name}".`);
  };
  const human = humanStep({ runId, journal, run, now, emit, inputs: scope.inputs, waiting: scope.waiting });
  const agentCall = journaledAgentCall({
    human,
    journal,
    runtime: deps.runtime,
    budget: scope.budget,
    options: scope.options,
    run,
    hooks,
    emit,
    agent,
    now,
    captureContent: deps.captureContent ?? false,
    tooling: deps.tools
      ? { runId, team, runtime: deps.tools, concurrency: deps.toolConcurrency ?? 4 }
      : undefined,
    guardrails: scope.guardrails,
  });
  const callAgent = withAskHuman(agentCall, { team, agent, human });
  const input = renderTask(request.input);
  return {
    runId,
    pattern: request.pattern,
    team,
    wiring: team.patterns[request.pattern],
    input,
    options: scope.options,
    signal: run.signal,
    budget: scope.budget,
    log: deps.log.child({ runId, pattern: request.pattern, team: team.name }),
    agent,
    callAgent,
    context: contextWindow({
      mode: scope.options.context,
      task: input,
      summarizer: summarizer ?? builtInSummarizer,
      callAgent,
    }),
    async step<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const recorded = journal.get(key);
      if (recorded?.kind === 'step') return recorded.value as T;
      run.boundary();
      return hooks.step(key, async () => {
        const value = await fn();
        await journal.put(key, { kind: 'step', value, completedAt: isoTime(now()) });
        return value;
      });
    },
    emit,
    breakerState: (name) => deps.runtime.breakerState(agent(name), scope.options.model),
    random: seededRandom(scope.options.seed),
    now,
  };
}
