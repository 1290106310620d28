import { z } from 'zod';
import { agentNameSchema } from '../agents/schema.js';
import type { AgentResult, AgentSpec, PriorWork } from '../core/agent.js';
import {
  AgentFailedError,
  BatonError,
  BudgetExceededError,
  InvalidRunError,
  toErrorInfo,
} from '../core/errors.js';
import type { RunContext, RunResult } from '../core/run-context.js';
import { agentMessages } from './messages.js';
import { definePattern } from './pattern.js';
import { emitOnce, names, outputOf, structuredUnder, teamLines } from './shared.js';
import { askStructured } from './structured-ask.js';

/**
 * Group chat: agents take turns on one shared conversation.
 *
 * - `round-robin`: the participants speak in order, again and again.
 * - `manager`: before every turn a manager agent picks the next speaker from the participants' descriptions (a
 *   structured choice, validated and retried like the magentic ledgers) or decides the task is done.
 * - `maker-checker`: a maker drafts, a checker approves or asks for changes, and the maker revises.
 *
 * A chat ends at `options.maxTurns` turns, when a speaker says the team's termination phrase, when the manager says
 * it is done, or (maker-checker) when the checker approves or `options.maxIterations` drafts were reviewed (then the
 * last draft stands, partial). Every turn is a journaled step announced by a `speaker.selected` event. A participant
 * that ultimately fails leaves the chat (partial); a spent budget ends it with the last answer. The final answer is
 * in the team's output schema when it declares one: the manager (or, without one, the last speaker) is asked for it.
 */

const chatModeNames = ['round-robin', 'manager', 'maker-checker'] as const;
type ChatMode = (typeof chatModeNames)[number];

const groupChatWiring = z
  .object({
    /** How speakers are chosen unless a run asks for another mode (`options.chatMode`). */
    mode: z.enum(chatModeNames).default('round-robin'),
    participants: z.array(agentNameSchema).min(1).optional(),
    manager: agentNameSchema.optional(),
    maker: agentNameSchema.optional(),
    checker: agentNameSchema.optional(),
    /** Who gives the final answer in the team's output schema (default: the manager, else the last speaker). */
    finalizer: agentNameSchema.optional(),
    /** A speaker's message containing this phrase ends the chat (case-insensitive). */
    terminationPhrase: z.string().min(1).max(100).optional(),
    /** This team's default for `options.maxTurns`. */
    maxTurns: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .superRefine((wiring, issues) => {
    const problem = missingFor(wiring, wiring.mode);
    if (problem) issues.addIssue({ code: 'custom', path: ['mode'], message: problem });
  });
type Wiring = z.infer<typeof groupChatWiring>;
type Options = { maxTurns?: number | undefined; maxIterations: number; chatMode?: ChatMode | undefined };
type Ctx = RunContext<Wiring, Options>;

const DEFAULT_MAX_TURNS = 8;

/** What a mode needs that the wiring lacks, as a sentence; undefined when it has everything. */
function missingFor(wiring: Wiring, mode: ChatMode): string | undefined {
  if (mode === 'maker-checker') {
    return wiring.maker && wiring.checker ? undefined : 'maker-checker needs a maker and a checker';
  }
  if (!wiring.participants) return `${mode} needs participants`;
  return mode === 'manager' && !wiring.manager ? 'manager needs a manager' : undefined;
}

export const groupChat = definePattern({
  name: 'group-chat',
  summary:
    'Agents take turns on one conversation: round-robin, chosen by a manager, or a maker and a checker.',
  wiring: groupChatWiring,
  options: {
    chatMode: z
      .enum(chatModeNames)
      .optional()
      .describe('Group chat: choose speakers another way than the team does.'),
    maxTurns: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('Group chat: turns at most (default: the team’s, else 8).'),
    maxIterations: z
      .number()
      .int()
      .min(1)
      .max(20)
      .optional()
      .describe('Group chat, maker-checker: drafts reviewed at most (default 3).'),
  },
  optionDefaults: { maxIterations: 3 },
  agentsIn: (wiring) => [
    ...(wiring.participants ?? []).map((agent, i) => ({ path: ['participants', i], agent })),
    ...(['manager', 'maker', 'checker', 'finalizer'] as const).flatMap((role) => {
      const agent = wiring[role];
      return agent ? [{ path: [role], agent }] : [];
    }),
  ],
  describeOptions: (wiring) => ({
    chatMode: wiring.mode,
    maxTurns: wiring.maxTurns ?? DEFAULT_MAX_TURNS,
    maxIterations: undefined,
    context: undefined,
  }),
  run(ctx) {
    const mode = ctx.options.chatMode ?? ctx.wiring.mode;
    const missing = missingFor(ctx.wiring, mode);
    if (missing)
      throw new InvalidRunError(`Team "${ctx.team.name}" cannot chat in ${mode} mode: ${missing}.`);
    return mode === 'maker-checker' ? makerChecker(ctx) : new GroupChat(ctx, mode).run();
  },
});

const speakerChoice = (participants: [string, ...string[]]) =>
  z.object({
    done: z.boolean(),
    next_speaker: z.enum(participants),
    reason: z.string(),
    instruction: z.string(),
  });
type SpeakerChoice = z.infer<ReturnType<typeof speakerChoice>>;

const review = z.object({ approved: z.boolean(), feedback: z.string() });
type Review = z.infer<typeof review>;

const invalid = (what: string) => (rejected: unknown[]) =>
  new BatonError('CHOICE_INVALID', `The ${what} failed schema validation ${rejected.length} times.`, {
    attempts: rejected,
  });

/** A round-robin or manager-led chat. */
class GroupChat {
  private readonly transcript: PriorWork[] = [];
  private readonly left = new Set<string>();
  private readonly failedAgents: string[] = [];
  private readonly speakers: string[] = [];
  private last: AgentResult | undefined;
  private stopReason = 'MAX_TURNS';

  constructor(
    private readonly ctx: Ctx,
    private readonly mode: 'round-robin' | 'manager',
  ) {}

  private participants(): AgentSpec[] {
    const all = this.ctx.wiring.participants ?? [];
    return all.filter((p) => !this.left.has(p)).map((p) => this.ctx.agent(p));
  }

  async run(): Promise<RunResult> {
    const maxTurns = this.ctx.options.maxTurns ?? this.ctx.wiring.maxTurns ?? DEFAULT_MAX_TURNS;
    try {
      for (let turn = 1; turn <= maxTurns; turn++) {
        if (!(await this.turn(turn))) break;
      }
    } catch (err) {
      if (!(err instanceof BudgetExceededError) || !this.last) throw err;
      return this.result({ text: this.last.text }, 'BUDGET_EXCEEDED');
    }
    return this.finish();
  }

  /** One turn: choose a speaker, let it speak. False when the chat ends. */
  private async turn(turn: number): Promise<boolean> {
    const team = this.participants();
    if (team.length === 0) return this.stop('NO_PARTICIPANTS');
    const choice = await this.choose(turn, team);
    if (!choice) return this.stop('MANAGER_DONE');
    const speaker = this.ctx.agent(choice.speaker);
    await emitOnce(this.ctx, `gc/turn:${turn}/speaker`, {
      type: 'speaker.selected',
      turn,
      speaker: speaker.name,
      ...(choice.reason ? { reason: choice.reason } : {}),
    });
    this.speakers.push(speaker.name);
    try {
      this.last = await this.ctx.callAgent({
        key: `gc/turn:${turn}/agent:${speaker.name}`,
        agent: speaker.name,
        messages: agentMessages(speaker, {
          task: this.ctx.input,
          prior: await this.ctx.context(this.transcript),
          instruction: choice.instruction ?? groupInstruction(team, speaker),
        }),
      });
    } catch (err) {
      if (!(err instanceof AgentFailedError)) throw err;
      this.ctx.log.warn(
        { agent: speaker.name, error: toErrorInfo(err) },
        'participant failed; it leaves the chat',
      );
      this.failedAgents.push(speaker.name);
      this.left.add(speaker.name);
      return true;
    }
    this.transcript.push({ agent: speaker.name, text: this.last.text });
    const phrase = this.ctx.wiring.terminationPhrase;
    if (phrase && this.last.text.toLowerCase().includes(phrase.toLowerCase()))
      return this.stop('TERMINATION_PHRASE');
    return true;
  }

  /** The next speaker: the next in order, or the manager's choice (undefined when the manager says it is done). */
  private async choose(
    turn: number,
    team: AgentSpec[],
  ): Promise<{ speaker: string; reason?: string; instruction?: string } | undefined> {
    if (this.mode === 'round-robin') return { speaker: (team[(turn - 1) % team.length] as AgentSpec).name };
    const manager = this.ctx.agent(this.ctx.wiring.manager as string);
    const choice = await askStructured<SpeakerChoice>(
      this.ctx,
      manager,
      {
        key: `gc/turn:${turn}/manager`,
        what: 'choice',
        schema: speakerChoice(names(team)),
        prior: this.transcript,
        instruction:
          `Turn ${turn}. You run this group chat. Decide whether the task is done; if not, choose who speaks next ` +
          `and what you ask of them.\nParticipants:\n${teamLines(team)}`,
      },
      invalid("manager's speaker choice"),
    );
    if (choice.done) return undefined;
    return { speaker: choice.next_speaker, reason: choice.reason, instruction: choice.instruction };
  }

  private stop(reason: string): false {
    this.stopReason = reason;
    return false;
  }

  /** The final answer: the last message, or the manager's (else the last speaker's) answer in the team's schema. */
  private async finish(): Promise<RunResult> {
    const { ctx } = this;
    const schema = ctx.team.outputSchema;
    const last = this.last;
    if (!last) throw new BatonError('NO_ANSWER', 'The group chat ended before anyone spoke.', this.details());
    if (!schema || structuredUnder(last, schema) !== undefined) {
      const structured = schema ? structuredUnder(last, schema) : last.structured;
      return this.result({ text: last.text, ...(structured !== undefined ? { structured } : {}) });
    }
    const { finalizer: declared, manager } = ctx.wiring;
    const chosen = declared ?? (this.mode === 'manager' ? manager : undefined) ?? this.speakers.at(-1);
    const finalizer = ctx.agent(chosen as string);
    try {
      const final = await ctx.callAgent({
        key: 'gc/final',
        agent: finalizer.name,
        messages: agentMessages(finalizer, {
          task: ctx.input,
          prior: this.transcript,
          instruction: 'The group chat is over. Give the final answer to the task from the conversation.',
        }),
        outputSchema: schema,
      });
      return this.result(outputOf(final));
    } catch (err) {
      if (!(err instanceof BudgetExceededError)) throw err;
      return this.result({ text: last.text }, 'BUDGET_EXCEEDED');
    }
  }

  private details(): Record<string, unknown> {
    return {
      mode: this.mode,
      turns: this.speakers.length,
      speakers: this.speakers,
      stopReason: this.stopReason,
    };
  }

  private result(output: RunResult['output'], stoppedBy?: string): RunResult {
    if (stoppedBy) this.stopReason = stoppedBy;
    const partial = stoppedBy !== undefined || this.failedAgents.length > 0;
    return {
      output,
      ...(partial ? { partial: true } : {}),
      ...(this.failedAgents.length ? { failedAgents: this.failedAgents } : {}),
      details: this.details(),
    };
  }
}

function groupInstruction(team: readonly AgentSpec[], speaker: AgentSpec): string {
  const others = team.filter((a) => a.name !== speaker.name).map((a) => a.name);
  return others.length
    ? `You are in a group chat with ${others.join(', ')}. Add your part to the conversation so far.`
    : 'Add your part to the conversation so far.';
}

/**
 * Maker-checker: the maker drafts (in the team's output schema when it has one), the checker reviews; until the
 * checker approves, the maker revises with the feedback, at most `options.maxIterations` drafts.
 */
async function makerChecker(ctx: Ctx): Promise<RunResult> {
  // missingFor() checked that the wiring names both.
  const maker = ctx.agent(ctx.wiring.maker as string);
  const checker = ctx.agent(ctx.wiring.checker as string);
  const transcript: PriorWork[] = [];
  let draft: AgentResult | undefined;
  let approved = false;
  let iteration = 0;
  const details = () => ({ mode: 'maker-checker', iterations: iteration, approved });
  try {
    while (!approved && iteration < ctx.options.maxIterations) {
      iteration += 1;
      const turn = (iteration - 1) * 2 + 1;
      await emitOnce(ctx, `gc/iter:${iteration}/maker`, {
        type: 'speaker.selected',
        turn,
        speaker: maker.name,
      });
      draft = await ctx.callAgent({
        key: `gc/iter:${iteration}/agent:${maker.name}`,
        agent: maker.name,
        messages: agentMessages(maker, {
          task: ctx.input,
          prior: await ctx.context(transcript),
          instruction:
            iteration === 1 ? 'Draft your answer to the task.' : 'Revise your draft to address the review.',
        }),
        ...(ctx.team.outputSchema ? { outputSchema: ctx.team.outputSchema } : {}),
      });
      transcript.push({ agent: maker.name, text: draft.text });
      await emitOnce(ctx, `gc/iter:${iteration}/checker`, {
        type: 'speaker.selected',
        turn: turn + 1,
        speaker: checker.name,
      });
      const verdict = await askStructured<Review>(
        ctx,
        checker,
        {
          key: `gc/iter:${iteration}/agent:${checker.name}`,
          what: 'review',
          schema: review,
          prior: transcript,
          instruction: `Review ${maker.name}'s latest draft. Approve it, or say exactly what must change.`,
        },
        invalid("checker's review"),
      );
      approved = verdict.approved;
      transcript.push({
        agent: checker.name,
        text: `${approved ? 'Approved' : 'Changes requested'}: ${verdict.feedback}`,
      });
    }
  } catch (err) {
    if (!(err instanceof BudgetExceededError) || !draft) throw err;
    return {
      output: outputOf(draft),
      partial: true,
      details: { ...details(), stopReason: 'BUDGET_EXCEEDED' },
    };
  }
  const final = draft as AgentResult; // the loop runs at least once (maxIterations ≥ 1)
  return {
    output: outputOf(final),
    ...(approved ? {} : { partial: true }),
    details: { ...details(), stopReason: approved ? 'APPROVED' : 'MAX_ITERATIONS' },
  };
}
