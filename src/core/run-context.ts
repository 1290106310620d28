import type { Logger } from 'pino';
import type { RunAbortSignal } from './abort.js';
import type { AgentCall, AgentResult, AgentSpec, BreakerState, PriorWork } from './agent.js';
import type { RunEventInput } from './events.js';
import type { OutputSchema } from './output-schema.js';
import type { RunOutput, RunUsage } from './run.js';
import type { ResolvedCommonRunOptions } from './run-options.js';

/** A run's token and model-call budget as patterns see it. */
export interface BudgetView {
  readonly maxTokens: number | undefined;
  readonly maxModelCalls: number | undefined;
  /** Usage of the run so far, replayed steps included. */
  usage(): RunUsage;
}

/** The team a run executes, as patterns see it (its pattern wiring comes separately, typed, as `ctx.wiring`). */
export interface TeamView {
  readonly name: string;
  /** Every answer that ends a run is asked for in this schema when the team declares one. */
  readonly outputSchema?: OutputSchema | undefined;
}

/**
 * Everything an orchestrator may touch. All I/O comes through here so a pattern runs the same in a worker, an
 * eval, a benchmark and an in-process unit test. `Wiring` is the pattern's part of the team document (already
 * validated when the team was loaded); `Options` are the pattern's own run options, defaults applied.
 */
export interface RunContext<Wiring = unknown, Options = object> {
  readonly runId: string;
  readonly pattern: string;
  readonly team: TeamView;
  readonly wiring: Wiring;
  /** The task as text (JSON objects are rendered as pretty JSON). */
  readonly input: string;
  readonly options: ResolvedCommonRunOptions & Options;
  /** Aborted on cancel, deadline or worker shutdown. */
  readonly signal: RunAbortSignal;
  readonly budget: BudgetView;
  readonly log: Logger;
  agent(name: string): AgentSpec;
  /**
   * Calls an agent through the runtime policies, journaled under `call.key`. Throws `AgentFailedError` when the
   * agent ultimately fails (also replayed), `BudgetExceededError`, or the run's cancel/deadline/interrupt error.
   */
  callAgent(call: AgentCall): Promise<AgentResult>;
  /**
   * The earlier work an agent is shown under `options.context`: all of it (`full`), the last piece (`last`), each
   * long piece summarised by a journaled, budgeted model call (`summary`), or each long piece cut short
   * (`truncate`).
   */
  context(prior: readonly PriorWork[]): Promise<PriorWork[]>;
  /** Runs `fn` once per run and journals its JSON result under `key`; later attempts replay it. */
  step<T>(key: string, fn: () => Promise<T>): Promise<T>;
  emit(event: RunEventInput): Promise<void>;
  /** Breaker state of an agent in this process (patterns route around open breakers). */
  breakerState(agent: string): BreakerState;
  /** Seeded by `options.seed`: the same sequence on every attempt, so decisions replay. */
  random(): number;
  now(): number;
}

export interface RunResult {
  output: RunOutput;
  /** The output as the `run.completed` event carries it, when it differs (PII placeholders kept). */
  eventOutput?: RunOutput;
  /** True when the run succeeded with degraded output (failed branches, budget stop, loop stop). */
  partial?: boolean;
  failedAgents?: string[];
  /** Pattern-specific result kept in the run record, e.g. magentic's final ledgers. */
  details?: Record<string, unknown>;
}
