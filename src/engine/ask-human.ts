import type { AgentDefinition } from '../agents/schema.js';
import type { AgentCall, AgentResult } from '../core/agent.js';
import type { ChatMessage, ToolCall, ToolDefinition } from '../core/model.js';
import type { HumanAnswer } from '../core/run.js';
import type { TeamDefinition } from '../teams/schema.js';
import type { HumanToolDeclaration } from '../tools/schema.js';
import type { HumanAsk } from './human-input.js';

/** Questions one agent call may ask a person before it must answer with what it has. */
export const MAX_QUESTIONS_PER_CALL = 5;

const DEFAULT_DESCRIPTION =
  'Ask a person a question you cannot answer yourself (a missing fact, a decision, a clarification). The run waits for the answer.';

/** The tool a model is offered for a `kind: human` declaration, under the name the team gave it. */
export function askHumanTool(name: string, declaration: HumanToolDeclaration): ToolDefinition {
  return {
    name,
    description: declaration.description ?? DEFAULT_DESCRIPTION,
    parameters: {
      type: 'object',
      properties: { question: { type: 'string', description: 'The question, complete on its own.' } },
      required: ['question'],
      additionalProperties: false,
    },
  };
}

/** The agent's `kind: human` tool, if the team gives it one. */
function humanToolOf(
  team: TeamDefinition,
  agent: AgentDefinition,
): { name: string; declaration: HumanToolDeclaration } | undefined {
  for (const name of agent.tools) {
    const declaration = team.tools?.find((t) => t.name === name);
    if (declaration?.kind === 'human') return { name, declaration };
  }
  return undefined;
}

function questionOf(call: ToolCall): string {
  try {
    const args = JSON.parse(call.arguments) as { question?: unknown };
    if (typeof args.question === 'string' && args.question.trim()) return args.question.trim();
  } catch {
    // A model's malformed arguments: the raw text is still the best statement of its question.
  }
  return call.arguments;
}

/** What the model sees as the tool's result. */
export function answerText(answer: HumanAnswer): string {
  if (answer.expired || answer.answer === undefined) {
    return 'No one answered the question before it expired; continue without the answer.';
  }
  return answer.answer;
}

/**
 * Gives agents that have a `kind: human` tool the `ask_human` built-in, the way handoffs give `transfer_to_*`:
 * the tool is offered with the call, and when the model calls it the question becomes a journaled human step
 * (`<key>/ask:<n>`); the answer goes back to the model as the tool's result in a follow-up call of the same agent
 * (`<key>/ask:<n>/reply`). The pattern sees the agent's final answer.
 */
export function withAskHuman(
  callAgent: (call: AgentCall) => Promise<AgentResult>,
  scope: {
    team: TeamDefinition;
    agent(name: string): AgentDefinition;
    human(key: string, ask: HumanAsk): Promise<HumanAnswer>;
  },
): (call: AgentCall) => Promise<AgentResult> {
  return async (call) => {
    const tool = humanToolOf(scope.team, scope.agent(call.agent));
    if (!tool) return callAgent(call);
    const tools = [...(call.tools ?? []), askHumanTool(tool.name, tool.declaration)];
    let messages: ChatMessage[] = call.messages;
    let key = call.key;
    for (let round = 1; ; round += 1) {
      const result = await callAgent({ ...call, key, messages, tools });
      const ask = result.toolCalls.find((c) => c.name === tool.name);
      if (!ask || round > MAX_QUESTIONS_PER_CALL) return result;
      const step = `${call.key}/ask:${round}`;
      const answer = await scope.human(step, {
        kind: 'question',
        agent: call.agent,
        tool: tool.name,
        question: questionOf(ask),
        timeoutMs: tool.declaration.approvalTimeoutMs ?? scope.team.approvalTimeoutMs,
      });
      messages = [
        ...messages,
        { role: 'assistant', content: result.text, toolCalls: [ask] },
        { role: 'tool', toolCallId: ask.id, content: answerText(answer) },
      ];
      key = `${step}/reply`;
    }
  };
}
