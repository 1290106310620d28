import { z } from 'zod';
import { agentNameSchema } from '../agents/schema.js';
import type { AgentResult, AgentSpec, PriorWork } from '../core/agent.js';
import { AgentFailedError, BatonError, BudgetExceededError, toErrorInfo } from '../core/errors.js';
import type { RunContext, RunResult } from '../core/run-context.js';
import { agentMessages } from './messages.js';
import { definePattern } from './pattern.js';
import { emitOnce, names, outputOf, teamLines } from './shared.js';
import { askStructured, STRUCTURED_RETRIES } from './structured-ask.js';

/** Retries of a ledger that fails schema validation, each under its own journal key. */
export const LEDGER_RETRIES = STRUCTURED_RETRIES;

const factsSchema = z.object({
  given_or_verified: z.array(z.string()),
  to_look_up: z.array(z.string()),
  to_derive: z.array(z.string()),
  educated_guesses: z.array(z.string()),
});

/** The task ledger: facts and a short plan whose steps name the participant that does them. */
export function taskLedgerSchema(participants: readonly [string, ...string[]]) {
  return z.object({
    facts: factsSchema,
    plan: z.array(z.object({ agent: z.enum(participants), step: z.string().min(1) })),
  });
}
export type TaskLedger = z.infer<ReturnType<typeof taskLedgerSchema>>;

const answered = <T extends z.ZodType>(answer: T) => z.object({ reason: z.string(), answer });

/** The progress ledger: five questions, each answered with a reason. `next_speaker` is one of `participants`. */
export function progressLedgerSchema(participants: readonly [string, ...string[]]) {
  return z.object({
    is_request_satisfied: answered(z.boolean()),
    is_in_loop: answered(z.boolean()),
    is_progress_being_made: answered(z.boolean()),
    next_speaker: answered(z.enum(participants)),
    instruction_or_question: answered(z.string().min(1)),
  });
}
export type ProgressLedger = z.infer<ReturnType<typeof progressLedgerSchema>>;

type LedgerKind = 'task' | 'progress';

/**
 * Asks the manager for a ledger in `schema`, retried like every structured answer (`askStructured`); then the run
 * fails with `LEDGER_INVALID`, keeping each rejected raw answer in the error details.
 */
function askLedger<T>(
  ctx: RunContext,
  manager: AgentSpec,
  request: { key: string; kind: LedgerKind; schema: z.ZodType; prior: PriorWork[]; instruction: string },
): Promise<T> {
  return askStructured<T>(
    ctx,
    manager,
    { ...request, what: 'ledger' },
    (rejected) =>
      new BatonError(
        'LEDGER_INVALID',
        `The manager's ${request.kind} ledger failed schema validation ${rejected.length} times.`,
        { ledger: request.kind, attempts: rejected },
      ),
  );
}

/**
 * Magentic (Magentic-One): a manager agent keeps a task ledger (facts and a plan over the participants'
 * descriptions) and, every round, a progress ledger that answers five questions and picks the next speaker and
 * its instruction. The chosen participant answers with the shared context; its answer joins it. A stall counter
 * (+1 on no progress or a loop, −1 on progress) above `options.maxStalls` makes the manager rewrite facts and plan
 * and clears the team's context (a reset, at most `options.maxResets`); `options.maxRounds` bounds the progress
 * ledgers. A participant that ultimately fails is excluded and the manager replans without it. The manager
 * synthesises the final answer in the team's output schema.
 */
const magenticWiring = z
  .object({ manager: agentNameSchema, participants: z.array(agentNameSchema).min(1) })
  .strict();

export const magentic = definePattern({
  name: 'magentic',
  summary: 'A manager keeps a task ledger and a progress ledger and picks the next participant each round.',
  wiring: z.object({ manager: agentNameSchema, participants: z.array(agentNameSchema).min(1) }).strict(),
  options: {
    maxRounds: z.number().int().min(1).max(200).optional().describe('Magentic: default 20.'),
    maxStalls: z.number().int().min(0).max(50).optional().describe('Magentic: default 3.'),
    maxResets: z.number().int().min(0).max(20).optional().describe('Magentic: default 3.'),
  },
  optionDefaults: { maxRounds: 20, maxStalls: 3, maxResets: 3 },
  agentsIn: (wiring) => [
    { path: ['manager'], agent: wiring.manager },
    ...wiring.participants.map((agent, i) => ({ path: ['participants', i], agent })),
  ],
  describeOptions: () => ({
    maxRounds: undefined,
    maxStalls: undefined,
    maxResets: undefined,
    context: undefined,
  }),
  run: (ctx) => new MagenticRun(ctx).run(),
});

type Ctx = RunContext<
  z.infer<typeof magenticWiring>,
  { maxRounds: number; maxStalls: number; maxResets: number }
>;

/** One magentic run: the manager's ledgers, the team's shared context and the stall/reset counters. */
class MagenticRun {
  private readonly manager: AgentSpec;
  private readonly participants: AgentSpec[];
  private readonly excluded = new Set<string>();
  private readonly failedAgents: string[] = [];
  private context: PriorWork[] = [];
  private taskLedger: TaskLedger | undefined;
  private progress: ProgressLedger | undefined;
  private lastAnswer: AgentResult | undefined;
  private round = 0;
  private stalls = 0;
  private resets = 0;
  private stopReason: string | undefined;

  constructor(private readonly ctx: Ctx) {
    this.manager = ctx.agent(ctx.wiring.manager);
    this.participants = ctx.wiring.participants.map((name) => ctx.agent(name));
  }

  private available(): AgentSpec[] {
    return this.participants.filter((p) => !this.excluded.has(p.name));
  }

  async run(): Promise<RunResult> {
    await this.plan();
    try {
      while (await this.nextRound());
    } catch (err) {
      if (!(err instanceof BudgetExceededError) || !this.lastAnswer) throw err;
      return this.budgetStop(this.lastAnswer);
    }
    return this.synthesize();
  }

  private async plan(): Promise<void> {
    const { ctx, participants } = this;
    this.taskLedger = await askLedger<TaskLedger>(ctx, this.manager, {
      key: 'mag/plan',
      kind: 'task',
      schema: taskLedgerSchema(names(participants)),
      prior: [],
      instruction:
        'Build the task ledger. Facts: what is given or verified, what to look up, what to derive, and educated ' +
        `guesses. Plan: a short plan, each step done by one of these team members:\n${teamLines(participants)}`,
    });
    await emitOnce(ctx, 'mag/plan', { type: 'plan.created', ledger: this.taskLedger });
  }

  /** One round: a progress ledger, then a reset or the chosen participant's turn. False when the loop ends. */
  private async nextRound(): Promise<boolean> {
    const { ctx } = this;
    const team = this.available();
    if (team.length === 0) return this.stop('NO_PARTICIPANTS');
    if (this.round >= ctx.options.maxRounds) return this.stop('MAX_ROUNDS');
    this.round += 1;
    const round = this.round;
    const progress = await askLedger<ProgressLedger>(ctx, this.manager, {
      key: `mag/round:${round}/ledger`,
      kind: 'progress',
      schema: progressLedgerSchema(names(team)),
      prior: this.context,
      instruction:
        `Round ${round}. Answer the five progress questions, each with a reason and an answer: is the request ` +
        'satisfied; are we in a loop; is progress being made; who speaks next (one of the team members below); ' +
        `and the instruction or question for them.\nTeam:\n${teamLines(team)}\n\nTask ledger:\n${JSON.stringify(this.taskLedger)}`,
    });
    this.progress = progress;
    await emitOnce(ctx, `mag/round:${round}/ledger`, { type: 'ledger.updated', round, ledger: progress });
    if (progress.is_request_satisfied.answer) return false;

    const stalled = !progress.is_progress_being_made.answer || progress.is_in_loop.answer;
    this.stalls = stalled ? this.stalls + 1 : Math.max(0, this.stalls - 1);
    if (this.stalls > ctx.options.maxStalls) {
      if (this.resets >= ctx.options.maxResets) return this.stop('MAX_RESETS');
      await this.replan('stalled', true);
      return true;
    }
    await this.speak(progress);
    return true;
  }

  private stop(reason: string): false {
    this.stopReason = reason;
    return false;
  }

  /** The chosen participant answers with the shared context; a participant that fails is excluded and replanned around. */
  private async speak(progress: ProgressLedger): Promise<void> {
    const { ctx } = this;
    const speaker = ctx.agent(progress.next_speaker.answer);
    try {
      this.lastAnswer = await ctx.callAgent({
        key: `mag/round:${this.round}/agent:${speaker.name}`,
        agent: speaker.name,
        messages: agentMessages(speaker, {
          task: ctx.input,
          prior: await ctx.context(this.context),
          instruction: progress.instruction_or_question.answer,
        }),
      });
      this.context.push({ agent: speaker.name, text: this.lastAnswer.text });
    } catch (err) {
      if (!(err instanceof AgentFailedError)) throw err;
      ctx.log.warn(
        { agent: speaker.name, error: toErrorInfo(err) },
        'participant failed; replanning without it',
      );
      this.failedAgents.push(speaker.name);
      this.excluded.add(speaker.name);
      if (this.available().length > 0 && this.resets < ctx.options.maxResets) {
        await this.replan('agent-failed', false, speaker.name);
      }
    }
  }

  /** The manager rewrites facts and plan (a reset); a stall also clears the team's context. */
  private async replan(
    reason: 'stalled' | 'agent-failed',
    clearContext: boolean,
    lost?: string,
  ): Promise<void> {
    const { ctx } = this;
    this.resets += 1;
    const team = this.available();
    const why =
      reason === 'stalled'
        ? `The team has stalled (no progress, or going in circles, for more than ${ctx.options.maxStalls} rounds).`
        : `${lost} is no longer available: its calls failed.`;
    this.taskLedger = await askLedger<TaskLedger>(ctx, this.manager, {
      key: `mag/reset:${this.resets}`,
      kind: 'task',
      schema: taskLedgerSchema(names(team)),
      prior: this.context,
      instruction:
        `${why} Rewrite the task ledger: update the facts with what was learned so far and make a new plan ` +
        `for these team members:\n${teamLines(team)}\n\nThe previous ledger:\n${JSON.stringify(this.taskLedger)}`,
    });
    if (clearContext) this.context = [];
    this.stalls = 0;
    const excluded = this.excluded.size ? { excluded: [...this.excluded] } : {};
    await emitOnce(ctx, `mag/reset:${this.resets}`, {
      type: 'replanned',
      reset: this.resets,
      ledger: { ...this.taskLedger, reason, ...excluded },
    });
  }

  /** The manager synthesises the final answer (in the team's output schema when it has one). */
  private async synthesize(): Promise<RunResult> {
    const { ctx, failedAgents } = this;
    let final: AgentResult;
    try {
      final = await ctx.callAgent({
        key: 'mag/final',
        agent: this.manager.name,
        messages: agentMessages(this.manager, {
          task: ctx.input,
          prior: this.context,
          instruction: 'Synthesize the final answer to the task from the team’s work so far.',
        }),
        ...(ctx.team.outputSchema ? { outputSchema: ctx.team.outputSchema } : { structured: false }),
      });
    } catch (err) {
      if (!(err instanceof BudgetExceededError) || !this.lastAnswer) throw err;
      return this.budgetStop(this.lastAnswer);
    }
    return {
      output: outputOf(final),
      ...(this.stopReason || failedAgents.length ? { partial: true } : {}),
      ...(failedAgents.length ? { failedAgents } : {}),
      details: this.details(this.stopReason),
    };
  }

  /** A spent budget ends the run with the last participant's answer, partial. */
  private budgetStop(last: AgentResult): RunResult {
    return {
      output: { text: last.text },
      partial: true,
      ...(this.failedAgents.length ? { failedAgents: this.failedAgents } : {}),
      details: this.details('BUDGET_EXCEEDED'),
    };
  }

  private details(reason: string | undefined): Record<string, unknown> {
    return {
      taskLedger: this.taskLedger,
      ...(this.progress ? { progressLedger: this.progress } : {}),
      rounds: this.round,
      resets: this.resets,
      stalls: this.stalls,
      ...(reason ? { stopReason: reason } : {}),
      ...(this.excluded.size ? { excluded: [...this.excluded] } : {}),
    };
  }
}
