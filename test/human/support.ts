import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatModel, ChatRequest, ChatResult } from '../../src/core/model.js';

/**
 * A team folder (BATON_TEAMS_DIR) outside the repository: `helpdesk`, whose clerk may ask a person, and `plain`,
 * whose clerk never does.
 */
export async function humanTeamDir(approvalTimeoutMs?: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-human-'));
  const timeout = approvalTimeoutMs === undefined ? '' : `, approvalTimeoutMs: ${approvalTimeoutMs}`;
  await writeFile(
    join(dir, 'helpdesk.yaml'),
    `name: helpdesk
description: One clerk that asks a person when it lacks a fact.
tools:
  - { name: ask_human, kind: human${timeout} }
agents:
  - name: clerk
    description: Answers customers, asking a person for facts it lacks.
    instructions: Answer the task. Ask a person when you need a fact you do not have.
    tools: [ask_human]
patterns:
  sequential: { order: [clerk] }
`,
  );
  await writeFile(
    join(dir, 'plain.yaml'),
    `name: plain
description: One clerk that never asks anyone.
agents:
  - name: clerk
    description: Answers customers.
    instructions: Answer the task.
patterns:
  sequential: { order: [clerk] }
`,
  );
  return dir;
}

const usage = { inputTokens: 10, outputTokens: 5 };

/**
 * A model that, offered `ask_human`, asks one question first, then answers with the last tool result it was
 * given; every request it got is kept.
 */
export function askingModel(question = 'Which order number is this about?') {
  const requests: ChatRequest[] = [];
  const model: ChatModel = {
    provider: 'simulated',
    async complete(request): Promise<ChatResult> {
      requests.push(request);
      const toolResult = [...request.messages].reverse().find((m) => m.role === 'tool');
      if (!toolResult && request.tools?.some((t) => t.name === 'ask_human')) {
        return {
          message: { role: 'assistant', content: '' },
          toolCalls: [
            { id: `call-${requests.length}`, name: 'ask_human', arguments: JSON.stringify({ question }) },
          ],
          usage,
          model: 'scripted',
          finishReason: 'tool_calls',
        };
      }
      return {
        message: { role: 'assistant', content: `Answer using: ${toolResult?.content ?? 'nothing'}` },
        toolCalls: [],
        usage,
        model: 'scripted',
        finishReason: 'stop',
      };
    },
  };
  return { model, requests };
}
