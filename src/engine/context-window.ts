import { type AgentDefinition, agentDefinitionSchema } from '../agents/schema.js';
import type { AgentCall, AgentResult, PriorWork } from '../core/agent.js';
import { hashString } from '../core/random.js';
import type { ContextMode } from '../core/run-options.js';
import { renderPrompt } from '../orchestrators/prompt.js';

/** Pieces at most this long are shown as they are: summarising them would cost a call and save nothing. */
export const SHORT_WORK_CHARS = 600;

/** The summariser a run uses when its team declares none. */
export const builtInSummarizer: AgentDefinition = agentDefinitionSchema.parse({
  name: 'context-summarizer',
  description: 'Summarises earlier work for the agents that see it under options.context=summary.',
  instructions:
    'You summarise a colleague’s work for the next member of the team. Keep every fact, name, number, decision and ' +
    'open question; drop repetition and wording. Answer with the summary only, at most five sentences.',
});

export interface ContextWindowScope {
  mode: ContextMode;
  task: string;
  /** The team's declared summariser, else the built-in one. */
  summarizer: AgentDefinition;
  callAgent(call: AgentCall): Promise<AgentResult>;
}

/**
 * `ctx.context`: what earlier work an agent sees. Under `summary` each long piece is summarised once per run by a
 * model call journaled under a key derived from the piece (`summary/<agent>/<hash>`), so a replay, or a second
 * agent shown the same piece, reuses it; the call is budgeted and counted like any other.
 */
export function contextWindow(
  scope: ContextWindowScope,
): (prior: readonly PriorWork[]) => Promise<PriorWork[]> {
  const summaries = new Map<string, Promise<AgentResult>>();
  const summarize = async (piece: PriorWork): Promise<PriorWork> => {
    if (piece.text.length <= SHORT_WORK_CHARS) return piece;
    const key = `summary/${piece.agent}/${hashString(`${piece.agent}\n${piece.text}`).toString(16)}`;
    let summary = summaries.get(key);
    if (!summary) {
      summary = scope.callAgent({
        key,
        agent: scope.summarizer.name,
        structured: false,
        messages: [
          { role: 'system', content: scope.summarizer.instructions },
          {
            role: 'user',
            content: renderPrompt({
              task: scope.task,
              prior: [piece],
              instruction: `Summarise ${piece.agent}'s work above for the next member of the team.`,
            }),
          },
        ],
      });
      summaries.set(key, summary);
    }
    return { agent: piece.agent, text: (await summary).text };
  };
  return async (prior) => {
    switch (scope.mode) {
      case 'last':
        return prior.slice(-1);
      case 'truncate':
        return prior.map((p) => ({
          agent: p.agent,
          text: p.text.length > SHORT_WORK_CHARS ? `${p.text.slice(0, SHORT_WORK_CHARS)}…` : p.text,
        }));
      case 'summary':
        return Promise.all(prior.map(summarize));
      default:
        return [...prior];
    }
  };
}
