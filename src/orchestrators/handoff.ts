import { z } from 'zod';
import { agentNameSchema } from '../agents/schema.js';
import type { AgentCall, AgentResult, AgentSpec } from '../core/agent.js';
import { AgentFailedError, BatonError, BudgetExceededError, toErrorInfo } from '../core/errors.js';
import type { ToolCall, ToolDefinition } from '../core/model.js';
import type { OutputSchema } from '../core/output-schema.js';
import type { RunResult } from '../core/run-context.js';
import { agentMessages, type PriorWork, selectContext } from './messages.js';
import { definePattern } from './pattern.js';
import { emitOnce, outputOf, parseJson, structuredUnder } from './shared.js';

/** The tool an agent calls to hand the conversation to `agent`: `transfer_to_<agent>`. */
export const TRANSFER_PREFIX = 'transfer_to_';

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
export const handoff = definePattern({
  name: 'handoff',
  summary: 'An owner agent holds the conversation and hands it to specialists with transfer tools.',
  wiring: z.object({ entry: agentNameSchema, fallback: agentNameSchema.optional() }).strict(),
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
  async run(ctx) {
    const wiring = ctx.wiring;
    const entry = ctx.agent(ctx.options.entryAgent ?? wiring.entry);
    const fallback = wiring.fallback ? ctx.agent(wiring.fallback) : undefined;
    const teamSchema = ctx.team.outputSchema;

    let owner = entry.name;
    let holder = entry.name;
    let instruction: string | undefined;
    const transcript: PriorWork[] = [];
    const unavailable = new Set<string>();
    const failedAgents: string[] = [];
    const skipped: string[] = [];
    const path: string[] = [entry.name];
    const transfers: { from: string; to: string }[] = [];
    const cycles = new Map<string, number>();
    let best: Answer | undefined;
    let refusedTransfer = false;
    let turn = 0;

    const details = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      owner,
      path,
      transfers: transfers.length,
      ...(skipped.length ? { skipped } : {}),
      ...(refusedTransfer ? { stopReason: 'MAX_HANDOFFS' } : {}),
      ...extra,
    });
    const finish = (
      output: RunResult['output'],
      partial: boolean,
      extra?: Record<string, unknown>,
    ): RunResult => ({
      output,
      ...(partial || failedAgents.length || refusedTransfer ? { partial: true } : {}),
      ...(failedAgents.length ? { failedAgents } : {}),
      details: details(extra),
    });
    const stopWithBest = (reason: string, error: BatonError, extra: Record<string, unknown>): RunResult => {
      if (!best) throw error;
      return finish(
        { text: best.text, ...(best.structured !== undefined ? { structured: best.structured } : {}) },
        true,
        { ...extra, stopReason: reason, bestFrom: best.agent },
      );
    };

    /** Control goes to the fallback agent instead of `name`, which is unavailable. */
    const reroute = async (key: string, name: string, why: string): Promise<void> => {
      unavailable.add(name);
      if (!fallback) return;
      const agent = ctx.agent(name);
      await emitOnce(ctx, `${key}/reroute`, {
        type: 'handoff',
        from: name,
        to: fallback.name,
        reason: `${name} is unavailable (${why})`,
      });
      if (owner === name) owner = fallback.name;
      holder = fallback.name;
      path.push(fallback.name);
      instruction = `Do the work of "${name}" (${agent.description}), which is unavailable.`;
    };
    const canFallBackFrom = (name: string) =>
      fallback !== undefined && name !== fallback.name && !unavailable.has(fallback.name);

    for (;;) {
      turn += 1;
      const key = `handoff/${turn}`;
      const agent = ctx.agent(holder);

      // Route around an open breaker; the state is journaled so a resumed run takes the same route.
      if (canFallBackFrom(holder)) {
        const state = await ctx.step(`${key}/breaker:${holder}`, async () => ctx.breakerState(holder));
        if (state === 'open') {
          ctx.log.warn({ agent: holder }, 'breaker open; the fallback agent takes over');
          skipped.push(holder);
          failedAgents.push(holder);
          await reroute(key, holder, 'circuit breaker open');
          continue;
        }
      }

      const isOwner = holder === owner;
      const finalSchema: OutputSchema | undefined = teamSchema ?? ctx.agent(owner).outputSchema;
      const targets = agent.handoffs.filter((h) => h !== holder && !unavailable.has(h));
      const prior = isOwner ? transcript : selectContext(transcript, ctx.options.context);
      const messages = agentMessages(agent, {
        task: ctx.input,
        prior,
        ...(instruction ? { instruction } : {}),
      });
      const answerCall = (callKey: string, extraInstruction?: string): AgentCall => ({
        key: callKey,
        agent: holder,
        messages: extraInstruction
          ? agentMessages(agent, {
              task: ctx.input,
              prior,
              instruction: [instruction, extraInstruction].filter(Boolean).join('\n\n'),
            })
          : messages,
        ...(isOwner && finalSchema ? { outputSchema: finalSchema } : {}),
      });

      let result: AgentResult;
      let transfer: { to: string; reason: string } | undefined;
      try {
        if (targets.length === 0) {
          result = await ctx.callAgent(answerCall(`${key}/agent:${holder}`));
        } else {
          // Turns that may hand off ask for text: an answer is read against the schema below.
          result = await ctx.callAgent({
            key: `${key}/agent:${holder}`,
            agent: holder,
            messages,
            tools: targets.map((t) => transferTool(ctx.agent(t))),
            toolChoice: 'auto',
            parallelToolCalls: false,
            structured: false,
          });
          transfer = transferIn(result.toolCalls, targets);
          if (transfer && transfers.length >= ctx.options.maxHandoffs) {
            refusedTransfer = true;
            transfer = undefined;
            result = await ctx.callAgent(
              answerCall(
                `${key}/answer:${holder}`,
                `No more handoffs are allowed in this conversation (${ctx.options.maxHandoffs} used): answer yourself.`,
              ),
            );
          }
        }
      } catch (err) {
        if (err instanceof AgentFailedError && canFallBackFrom(holder)) {
          ctx.log.warn(
            { agent: holder, error: toErrorInfo(err) },
            'agent failed; the fallback agent takes over',
          );
          failedAgents.push(holder);
          await reroute(key, holder, toErrorInfo(err).code);
          continue;
        }
        if (err instanceof BudgetExceededError) return stopWithBest('BUDGET_EXCEEDED', err, {});
        throw err;
      }

      if (transfer) {
        const { to, reason } = transfer;
        transcript.push({ agent: holder, text: result.text.trim() || `Transferred to ${to}: ${reason}` });
        transfers.push({ from: holder, to });
        path.push(to);
        await emitOnce(ctx, key, { type: 'handoff', from: holder, to, ...(reason ? { reason } : {}) });
        const previous = transfers[transfers.length - 2];
        if (previous && previous.to === holder && previous.from === to) {
          const cycle = [to, holder, to];
          const seen = (cycles.get(cycle.join('>')) ?? 0) + 1;
          cycles.set(cycle.join('>'), seen);
          if (seen >= 2) {
            const loop = { cycle, seen };
            return stopWithBest(
              'HANDOFF_LOOP',
              new BatonError(
                'HANDOFF_LOOP',
                `Handoffs went ${cycle.join(' → ')} twice without an answer; the conversation was stopped.`,
                details({ loop }),
              ),
              { loop },
            );
          }
        }
        instruction = `${holder} handed the conversation to you${reason ? `: ${reason}` : '.'}`;
        holder = to;
        continue;
      }

      const answer: Answer = { agent: holder, text: result.text };
      const structured = teamSchema ? structuredUnder(result, teamSchema) : result.structured;
      if (structured !== undefined) answer.structured = structured;
      if (answer.structured !== undefined || best?.structured === undefined) best = answer;

      if (!isOwner) {
        transcript.push({ agent: holder, text: result.text });
        await emitOnce(ctx, `${key}/return`, {
          type: 'handoff',
          from: holder,
          to: owner,
          reason: `${holder} answered; control returns to ${owner}`,
        });
        instruction = `${holder} has answered (see the work so far). Hand off again or give the final answer.`;
        holder = owner;
        path.push(owner);
        continue;
      }

      // The owner's answer ends the run. When it is not in the final schema yet, ask once for exactly that.
      if (!finalSchema || structuredUnder(result, finalSchema) !== undefined) {
        const final = finalSchema ? structuredUnder(result, finalSchema) : result.structured;
        return finish({ text: result.text, ...(final !== undefined ? { structured: final } : {}) }, false);
      }
      try {
        const final = await ctx.callAgent(
          answerCall(`${key}/final:${holder}`, 'Give your final answer now, as JSON in the required schema.'),
        );
        return finish(outputOf(final), false);
      } catch (err) {
        if (err instanceof BudgetExceededError) return stopWithBest('BUDGET_EXCEEDED', err, {});
        throw err;
      }
    }
  },
});
