import { z } from 'zod';
import { agentNameSchema } from '../agents/schema.js';
import type { AgentCall, AgentResult, AgentSpec, PriorWork } from '../core/agent.js';
import { AgentFailedError, BatonError, BudgetExceededError, toErrorInfo } from '../core/errors.js';
import type { ToolCall, ToolDefinition } from '../core/model.js';
import type { OutputSchema } from '../core/output-schema.js';
import type { RunContext, RunResult } from '../core/run-context.js';
import { agentMessages } from './messages.js';
import { definePattern } from './pattern.js';
import { emitOnce, outputOf, parseJson, structuredUnder } from './shared.js';

/** The tool an agent calls to hand the conversation to `agent`: `transfer_to_<agent>`. */
export const TRANSFER_PREFIX = 'transfer_to_';

/**
 * What a transfer leaves in the conversation when the agent said nothing with it. Readers of the transcript (the
 * simulated model) tell a hand-over from an answer by it.
 */
export function transferNote(to: string, reason: string): string {
  return `${TRANSFER_NOTE_PREFIX}${to}: ${reason}`;
}
export const TRANSFER_NOTE_PREFIX = 'Transferred to ';

/** The instruction the agent taking control is given: `<from> handed the conversation to you[: reason]`. */
export function handedOverInstruction(from: string, reason: string): string {
  return `${from}${HANDED_OVER}${reason ? `: ${reason}` : '.'}`;
}
export const HANDED_OVER = ' handed the conversation to you';

export function transferTool(agent: AgentSpec): ToolDefinition {
  return {
    name: `${TRANSFER_PREFIX}${agent.name}`,
    description: `Hand the conversation to ${agent.name}: ${agent.description}`,
    parameters: {
      type: 'object',
      properties: { reason: { type: 'string', description: `Why ${agent.name} should take over.` } },
      required: ['reason'],
      additionalProperties: false,
    },
  };
}

/** The first tool call that names one of the offered transfers, as `{ to, reason }`. */
function transferIn(
  toolCalls: readonly ToolCall[],
  offered: readonly string[],
): { to: string; reason: string } | undefined {
  for (const call of toolCalls) {
    if (!call.name.startsWith(TRANSFER_PREFIX)) continue;
    const to = call.name.slice(TRANSFER_PREFIX.length);
    if (!offered.includes(to)) continue;
    const args = parseJson(call.arguments);
    const reason =
      args && typeof args === 'object' && typeof (args as { reason?: unknown }).reason === 'string'
        ? (args as { reason: string }).reason
        : '';
    return { to, reason };
  }
  return undefined;
}

interface Answer {
  agent: string;
  text: string;
  structured?: unknown;
}

/**
 * Handoff: the entry agent (`options.entryAgent` ?? the team's `patterns.handoff.entry`) owns the conversation.
 * Each turn the agent holding control either answers or transfers control to one of its declared `handoffs`
 * by calling the `transfer_to_<agent>` tool (at most one transfer a turn). A specialist's answer returns
 * control to the owner; the owner's answer ends the run. The agent taking control sees the conversation so far
 * per `options.context`; the owner always sees all of it.
 *
 * Guards: `options.maxHandoffs` transfers (a transfer asked for beyond it is refused and the agent asked once more
 * without transfer tools; the run is then partial with `stopReason: 'MAX_HANDOFFS'`), and a ping-pong detector:
 * the same A→B→A cycle of transfers seen twice stops the run with `HANDOFF_LOOP` — succeeded and partial with the
 * best answer so far (`details.stopReason: 'HANDOFF_LOOP'`), or failed with error code `HANDOFF_LOOP` when no
 * agent has answered yet. An agent whose breaker is open, or that ultimately fails, is replaced by the team's
 * `fallback` agent; without a fallback its failure fails the run (`AGENT_FAILED`).
 */
const handoffWiring = z.object({ entry: agentNameSchema, fallback: agentNameSchema.optional() }).strict();

export const handoff = definePattern({
  name: 'handoff',
  summary: 'An owner agent holds the conversation and hands it to specialists with transfer tools.',
  wiring: handoffWiring,
  options: {
    entryAgent: z.string().min(1).optional().describe('Handoff: override the team entry agent.'),
    maxHandoffs: z.number().int().min(0).max(100).optional().describe('Handoff: default 8.'),
  },
  optionDefaults: { maxHandoffs: 8 },
  agentsIn: (wiring) => [
    { path: ['entry'], agent: wiring.entry },
    ...(wiring.fallback ? [{ path: ['fallback'], agent: wiring.fallback }] : []),
  ],
  describeOptions: (wiring) => ({ entryAgent: wiring.entry, maxHandoffs: undefined, context: undefined }),
  run: (ctx) => new HandoffConversation(ctx).run(),
});

type Ctx = RunContext<
  z.infer<typeof handoffWiring>,
  { entryAgent?: string | undefined; maxHandoffs: number }
>;

/** One handoff conversation: who owns it, who holds control, what was said, and the guards' counters. */
class HandoffConversation {
  private owner: string;
  private holder: string;
  private instruction: string | undefined;
  private readonly transcript: PriorWork[] = [];
  private readonly unavailable = new Set<string>();
  private readonly failedAgents: string[] = [];
  private readonly skipped: string[] = [];
  private readonly path: string[];
  private readonly transfers: { from: string; to: string }[] = [];
  private readonly cycles = new Map<string, number>();
  private readonly fallback: AgentSpec | undefined;
  private best: Answer | undefined;
  private refusedTransfer = false;
  private turn = 0;

  constructor(private readonly ctx: Ctx) {
    const entry = ctx.agent(ctx.options.entryAgent ?? ctx.wiring.entry);
    this.fallback = ctx.wiring.fallback ? ctx.agent(ctx.wiring.fallback) : undefined;
    this.owner = entry.name;
    this.holder = entry.name;
    this.path = [entry.name];
  }

  async run(): Promise<RunResult> {
    for (;;) {
      this.turn += 1;
      const key = `handoff/${this.turn}`;
      if (await this.rerouteOpenBreaker(key)) continue;
      const turn = await this.takeTurn(key);
      if (turn === 'rerouted') continue;
      if ('output' in turn) return turn;
      const ended = turn.transfer
        ? await this.handOver(key, turn.result, turn.transfer)
        : await this.answered(key, turn.result);
      if (ended) return ended;
    }
  }

  private get isOwnerTurn(): boolean {
    return this.holder === this.owner;
  }

  /** The schema of the answer that ends the run: the team's, else the owner's own. */
  private finalSchema(): OutputSchema | undefined {
    return this.ctx.team.outputSchema ?? this.ctx.agent(this.owner).outputSchema;
  }

  private canFallBackFrom(name: string): boolean {
    return (
      this.fallback !== undefined && name !== this.fallback.name && !this.unavailable.has(this.fallback.name)
    );
  }

  /** Routes around an open breaker; the state is journaled so a resumed run takes the same route. */
  private async rerouteOpenBreaker(key: string): Promise<boolean> {
    const holder = this.holder;
    if (!this.canFallBackFrom(holder)) return false;
    const state = await this.ctx.step(`${key}/breaker:${holder}`, async () => this.ctx.breakerState(holder));
    if (state !== 'open') return false;
    this.ctx.log.warn({ agent: holder }, 'breaker open; the fallback agent takes over');
    this.skipped.push(holder);
    this.failedAgents.push(holder);
    await this.reroute(key, holder, 'circuit breaker open');
    return true;
  }

  /** Control goes to the fallback agent instead of `name`, which is unavailable. */
  private async reroute(key: string, name: string, why: string): Promise<void> {
    this.unavailable.add(name);
    const fallback = this.fallback;
    if (!fallback) return;
    const agent = this.ctx.agent(name);
    await emitOnce(this.ctx, `${key}/reroute`, {
      type: 'handoff',
      from: name,
      to: fallback.name,
      reason: `${name} is unavailable (${why})`,
    });
    if (this.owner === name) this.owner = fallback.name;
    this.holder = fallback.name;
    this.path.push(fallback.name);
    this.instruction = `Do the work of "${name}" (${agent.description}), which is unavailable.`;
  }

  /** The holder's call: with the transfer tools it may use, or asked to answer when it has none left. */
  private async answerCall(key: string, extraInstruction?: string): Promise<AgentCall> {
    const agent = this.ctx.agent(this.holder);
    const finalSchema = this.finalSchema();
    const instruction = [this.instruction, extraInstruction].filter(Boolean).join('\n\n');
    return {
      key,
      agent: this.holder,
      messages: agentMessages(agent, {
        task: this.ctx.input,
        prior: await this.visibleTranscript(),
        ...(instruction ? { instruction } : {}),
      }),
      ...(this.isOwnerTurn && finalSchema ? { outputSchema: finalSchema } : {}),
    };
  }

  /** The owner sees the whole conversation; others see it per `options.context`. */
  private async visibleTranscript(): Promise<PriorWork[]> {
    return this.isOwnerTurn ? [...this.transcript] : this.ctx.context(this.transcript);
  }

  /**
   * The holder either answers or asks for a transfer. A transfer beyond `maxHandoffs` is refused and the holder
   * asked once more to answer itself. A failed holder is replaced by the fallback; a spent budget ends the run.
   */
  private async takeTurn(
    key: string,
  ): Promise<'rerouted' | RunResult | { result: AgentResult; transfer?: { to: string; reason: string } }> {
    const { ctx, holder } = this;
    const targets = ctx.agent(holder).handoffs.filter((h) => h !== holder && !this.unavailable.has(h));
    try {
      if (targets.length === 0)
        return { result: await ctx.callAgent(await this.answerCall(`${key}/agent:${holder}`)) };
      // Turns that may hand off ask for text: an answer is read against the schema later.
      const { outputSchema: _, ...call } = await this.answerCall(`${key}/agent:${holder}`);
      const result = await ctx.callAgent({
        ...call,
        tools: targets.map((t) => transferTool(ctx.agent(t))),
        toolChoice: 'auto',
        parallelToolCalls: false,
        structured: false,
      });
      const transfer = transferIn(result.toolCalls, targets);
      if (!transfer || this.transfers.length < ctx.options.maxHandoffs)
        return { result, ...(transfer ? { transfer } : {}) };
      this.refusedTransfer = true;
      const refusal = `No more handoffs are allowed in this conversation (${ctx.options.maxHandoffs} used): answer yourself.`;
      return { result: await ctx.callAgent(await this.answerCall(`${key}/answer:${holder}`, refusal)) };
    } catch (err) {
      if (err instanceof AgentFailedError && this.canFallBackFrom(holder)) {
        ctx.log.warn(
          { agent: holder, error: toErrorInfo(err) },
          'agent failed; the fallback agent takes over',
        );
        this.failedAgents.push(holder);
        await this.reroute(key, holder, toErrorInfo(err).code);
        return 'rerouted';
      }
      if (err instanceof BudgetExceededError) return this.stopWithBest('BUDGET_EXCEEDED', err, {});
      throw err;
    }
  }

  /** A transfer: control moves, unless the same A→B→A cycle has now been seen twice (then the run stops). */
  private async handOver(
    key: string,
    result: AgentResult,
    { to, reason }: { to: string; reason: string },
  ): Promise<RunResult | undefined> {
    const from = this.holder;
    this.transcript.push({ agent: from, text: result.text.trim() || transferNote(to, reason) });
    this.transfers.push({ from, to });
    this.path.push(to);
    await emitOnce(this.ctx, key, { type: 'handoff', from, to, ...(reason ? { reason } : {}) });
    const previous = this.transfers[this.transfers.length - 2];
    if (previous && previous.to === from && previous.from === to) {
      const cycle = [to, from, to];
      const seen = (this.cycles.get(cycle.join('>')) ?? 0) + 1;
      this.cycles.set(cycle.join('>'), seen);
      if (seen >= 2) {
        const loop = { cycle, seen };
        const message = `Handoffs went ${cycle.join(' → ')} twice without an answer; the conversation was stopped.`;
        return this.stopWithBest(
          'HANDOFF_LOOP',
          new BatonError('HANDOFF_LOOP', message, this.details({ loop })),
          {
            loop,
          },
        );
      }
    }
    this.instruction = handedOverInstruction(from, reason);
    this.holder = to;
    return undefined;
  }

  /**
   * An answer. A specialist's returns control to the owner; the owner's ends the run, asked once more for the
   * final schema when it is not in it yet.
   */
  private async answered(key: string, result: AgentResult): Promise<RunResult | undefined> {
    const { ctx, holder } = this;
    const teamSchema = ctx.team.outputSchema;
    const answer: Answer = { agent: holder, text: result.text };
    const structured = teamSchema ? structuredUnder(result, teamSchema) : result.structured;
    if (structured !== undefined) answer.structured = structured;
    if (answer.structured !== undefined || this.best?.structured === undefined) this.best = answer;

    if (!this.isOwnerTurn) {
      this.transcript.push({ agent: holder, text: result.text });
      await emitOnce(ctx, `${key}/return`, {
        type: 'handoff',
        from: holder,
        to: this.owner,
        reason: `${holder} answered; control returns to ${this.owner}`,
      });
      this.instruction = `${holder} has answered (see the work so far). Hand off again or give the final answer.`;
      this.holder = this.owner;
      this.path.push(this.owner);
      return undefined;
    }
    const finalSchema = this.finalSchema();
    if (!finalSchema || structuredUnder(result, finalSchema) !== undefined) {
      const final = finalSchema ? structuredUnder(result, finalSchema) : result.structured;
      return this.finish({ text: result.text, ...(final !== undefined ? { structured: final } : {}) }, false);
    }
    try {
      const retry = 'Give your final answer now, as JSON in the required schema.';
      const final = await ctx.callAgent(await this.answerCall(`${key}/final:${holder}`, retry));
      return this.finish(outputOf(final), false);
    } catch (err) {
      if (err instanceof BudgetExceededError) return this.stopWithBest('BUDGET_EXCEEDED', err, {});
      throw err;
    }
  }

  private details(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      owner: this.owner,
      path: this.path,
      transfers: this.transfers.length,
      ...(this.skipped.length ? { skipped: this.skipped } : {}),
      ...(this.refusedTransfer ? { stopReason: 'MAX_HANDOFFS' } : {}),
      ...extra,
    };
  }

  private finish(output: RunResult['output'], partial: boolean, extra?: Record<string, unknown>): RunResult {
    const failedAgents = this.failedAgents;
    return {
      output,
      ...(partial || failedAgents.length || this.refusedTransfer ? { partial: true } : {}),
      ...(failedAgents.length ? { failedAgents } : {}),
      details: this.details(extra),
    };
  }

  /** Stops with the best answer so far (partial), or fails with `error` when no agent has answered yet. */
  private stopWithBest(reason: string, error: BatonError, extra: Record<string, unknown>): RunResult {
    const best = this.best;
    if (!best) throw error;
    return this.finish(
      { text: best.text, ...(best.structured !== undefined ? { structured: best.structured } : {}) },
      true,
      { ...extra, stopReason: reason, bestFrom: best.agent },
    );
  }
}
