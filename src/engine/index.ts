import { BatonError, InvalidRunError, RunInterruptedError, RunWaitingError } from '../core/errors.js';
import { noEngineHooks } from '../core/hooks.js';
import type { PendingInput, RunOutcome } from '../core/run.js';
import type { RegisteredPattern } from '../orchestrators/pattern.js';
import { RunBudget } from '../policies/budget.js';
import type { EventSink } from '../runs/events.js';
import { type RunRequest, resolveRunOptions } from '../runs/schema.js';
import { type RunTeam, resolveRunTeam } from '../teams/resolver.js';
import type { TeamDefinition } from '../teams/schema.js';
import { BASE_VARIANT } from '../teams/variants.js';
import { buildRunContext } from './context.js';
import type { EngineDeps, ExecuteInput } from './deps.js';
import { guardrailsForRun, restoredResult } from './guardrails.js';
import { wakeAt } from './human-input.js';
import { ended, outcomeOf, succeeded } from './outcome.js';
import { runSignal } from './run-signal.js';

export type { EngineDeps, ExecuteInput } from './deps.js';

function patternFor(deps: EngineDeps, team: TeamDefinition, request: RunRequest): RegisteredPattern {
  const pattern = deps.orchestrators.get(request.pattern);
  if (!pattern) throw new InvalidRunError(`Pattern "${request.pattern}" is not available.`);
  if (team.patterns[request.pattern] === undefined) {
    throw new InvalidRunError(`Team "${team.name}" is not wired for the ${request.pattern} pattern.`);
  }
  return pattern;
}

/**
 * Executes one run: builds the `RunContext`, runs the pattern's orchestrator over it and turns its result (or
 * error) into an outcome. Journaled steps replay; everything else runs live. Throws only `RunInterruptedError`
 * (drain: resume elsewhere) and infrastructure errors (the job is retried; the journal makes that cheap).
 */
export async function execute(input: ExecuteInput, deps: EngineDeps): Promise<RunOutcome> {
  const { runId, request, journal } = input;
  // A journal that writes the run's events keeps them in order with its held step starts.
  const { steps } = journal;
  const events: EventSink = steps ? { append: (_, event) => steps.emit(event) } : input.events;
  const hooks = deps.hooks ?? noEngineHooks;
  const now = deps.now ?? Date.now;
  const entries = journal.entries();
  const resumed = input.attempt > 1 || entries.length > 0;
  const info = {
    runId,
    pattern: request.pattern,
    team: request.team,
    variant: request.options?.variant ?? BASE_VARIANT,
    attempt: input.attempt,
    resumed,
  };

  return hooks.run(info, async () => {
    const budget = new RunBudget(request.options?.maxTokens, request.options?.maxModelCalls);
    for (const [, entry] of entries) {
      if (entry.kind === 'agent') budget.replay(entry.usage, entry.modelCalls, entry.costUsd);
    }
    let resolved: RunTeam | undefined;
    const finish = (ending: Parameters<typeof outcomeOf>[0]) =>
      outcomeOf(ending, budget, journal, resolved?.definitionVersion ?? request.teamVersion ?? '');
    let run: ReturnType<typeof runSignal> | undefined;
    const waiting: PendingInput[] = [];
    try {
      // The version the run was created with (the job carries it), so a resumed run executes what it started.
      resolved = await resolveRunTeam(deps.teams, { ...request, variant: request.options?.variant });
      const { team } = resolved;
      const pattern = patternFor(deps, team, request);
      const options = resolveRunOptions(pattern, request.options);
      run = runSignal({
        cancel: input.signal,
        drain: input.drain,
        deadlineMs: options.deadlineMs,
        elapsedMs: now() - (input.firstStartedAt ?? now()),
      });
      const guardrails = guardrailsForRun(deps, team, request, {
        seed: options.seed,
        emit: (e) => events.append(runId, e),
      });
      const ctx = buildRunContext(
        {
          ...{ runId, request, team, options, journal, events, budget, run, hooks, now },
          inputs: input.inputs,
          guardrails,
          waiting,
        },
        deps,
      );
      const started = { type: 'run.started', attempt: input.attempt, resumed } as const;
      await (steps ? steps.announce(started) : ctx.emit(started));
      const result = await pattern.run(ctx);
      await steps?.flush();
      return finish(succeeded(team, restoredResult(guardrails, result)));
    } catch (err) {
      // Every request the execution reached (concurrent branches may each have asked), not just the first.
      if (err instanceof RunWaitingError && run) {
        await steps?.flush();
        throw new RunWaitingError(waiting, wakeAt(waiting, run, now()));
      }
      if (err instanceof RunInterruptedError || !(err instanceof BatonError)) {
        // Step starts still held are written before the execution ends (never after what follows it): a
        // superseded attempt's are refused, and the error that ended the execution is the one to report.
        await steps?.flush().catch(() => {});
        throw err;
      }
      await steps?.flush();
      return finish(ended(err));
    } finally {
      run?.dispose();
    }
  });
}
