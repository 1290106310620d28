import type { AgentCall, AgentResult } from '../core/agent.js';
import { BatonError, ToolOutcomeUnknownError, toErrorInfo } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { EngineHooks } from '../core/hooks.js';
import type { ToolCall } from '../core/model.js';
import type { ToolCallSettlement, ToolLoop, ToolMessage } from '../core/tools.js';
import type { RunJournal, ToolEntry } from '../runs/journal.js';
import type { ExecutableTool, ToolRuntime, ToolTeam } from '../tools/runtime.js';
import type { RunSignal } from './run-signal.js';

/** What a run's tool calls need: the worker's tools, the run's team and id. */
export interface Tooling {
  runId: string;
  team: ToolTeam;
  runtime: ToolRuntime;
  /** Tool calls of one model turn that run at once. */
  concurrency: number;
}

/** What tool steps need of the agent step they belong to. */
interface ToolStepScope {
  journal: RunJournal;
  run: RunSignal;
  hooks: EngineHooks;
  emit(event: RunEventInput): Promise<void>;
  now(): number;
  captureContent: boolean;
  tooling: Tooling;
}

/** Journal key of a model turn that asked for tools: `<call key>#<round>`. */
export const turnKey = (call: AgentCall, round: number) => `${call.key}#${round}`;
/** Journal key of one tool call of a turn: `<call key>#<round>/tool:<index>`. */
export const toolKey = (call: AgentCall, round: number, index: number) =>
  `${turnKey(call, round)}/tool:${index}`;

/**
 * The engine's side of an agent's tool loop (the runtime drives it: src/agents/runtime.ts `toolLoop`). Each model
 * turn that asked for tools is journaled under `<call key>#<round>`, each tool call under `…#<round>/tool:<i>`:
 * a `started` entry before the call is sent, the result after. A replay returns journaled results and never calls
 * a tool again; a call found `started` (its worker died while it was in flight) is re-sent with the same
 * `Idempotency-Key` only when the tool is idempotent, and otherwise fails the run with `TOOL_OUTCOME_UNKNOWN`.
 */
export function toolLoopFor(
  scope: ToolStepScope,
  call: AgentCall,
  tools: readonly ExecutableTool[],
  maxRounds: number,
): ToolLoop {
  const byName = new Map(tools.map((t) => [t.definition.name, t]));
  return {
    definitions: tools.map((t) => t.definition),
    maxRounds,
    replayTurn(round) {
      const entry = scope.journal.get(turnKey(call, round));
      return entry?.kind === 'agent' && entry.ok ? entry.result : undefined;
    },
    async recordTurn(round, result, requests) {
      await scope.journal.put(turnKey(call, round), turnEntry(scope, result, requests));
    },
    async runTools(round, calls) {
      const out: ToolMessage[] = new Array(calls.length);
      let next = 0;
      const lane = async () => {
        while (next < calls.length) {
          const i = next++;
          out[i] = await toolStep(scope, call, round, i, calls[i] as ToolCall, byName);
        }
      };
      await Promise.all(Array.from({ length: Math.min(scope.tooling.concurrency, calls.length) }, lane));
      return out;
    },
  };
}

function turnEntry(scope: ToolStepScope, result: AgentResult, requests: number) {
  const now = scope.now();
  return {
    kind: 'agent' as const,
    ok: true as const,
    result,
    usage: result.usage,
    modelCalls: requests,
    ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
    startedAt: new Date(now - result.durationMs).toISOString(),
    completedAt: new Date(now).toISOString(),
    order: performance.timeOrigin + performance.now(),
  };
}

/** What the model is shown of a failed call: the error's code and message (never a header or secret). */
function failureText(error: Error): string {
  const info = toErrorInfo(error);
  return JSON.stringify({ error: { code: info.code, message: info.message } });
}

/** One tool call as a journaled step. */
async function toolStep(
  scope: ToolStepScope,
  call: AgentCall,
  round: number,
  index: number,
  toolCall: ToolCall,
  byName: ReadonlyMap<string, ExecutableTool>,
): Promise<ToolMessage> {
  const key = toolKey(call, round, index);
  const reply = (content: string): ToolMessage => ({ role: 'tool', toolCallId: toolCall.id, content });
  const recorded = scope.journal.get(key);
  if (recorded?.kind === 'tool' && recorded.status !== 'started') {
    return reply(
      recorded.content ??
        failureText(new BatonError(recorded.error?.code ?? 'TOOL_FAILED', recorded.error?.message ?? '')),
    );
  }
  const tool = byName.get(toolCall.name);
  const base = {
    kind: 'tool' as const,
    agent: call.agent,
    tool: toolCall.name,
    callId: toolCall.id,
    idempotent: tool?.idempotent ?? true,
  };
  const ref = { agent: call.agent, step: key, tool: toolCall.name, callId: toolCall.id };
  if (recorded?.kind === 'tool' && !recorded.idempotent) await refuseUnknownOutcome(scope, key, recorded);
  scope.run.boundary();
  await scope.journal.assertCurrent?.();
  const startedAt = scope.now();
  const started: ToolEntry = {
    ...base,
    status: 'started',
    startedAt: new Date(startedAt).toISOString(),
    attempts: 0,
  };
  await scope.journal.put(key, started);
  await scope.emit({
    type: 'tool.called',
    ...ref,
    ...(scope.captureContent ? { arguments: toolCall.arguments } : {}),
  });
  const info = {
    tool: toolCall.name,
    type: tool?.type ?? ('function' as const),
    callId: toolCall.id,
    agent: call.agent,
    key,
  };
  const settled: ToolCallSettlement = await scope.hooks.executeTool(info, async () => {
    if (!tool) {
      const error = new BatonError('TOOL_NOT_FOUND', `The agent has no tool "${toolCall.name}".`);
      return { ok: false, error, attempts: 0 };
    }
    return scope.tooling.runtime.execute(scope.tooling.team.name, tool, toolCall.arguments, {
      signal: scope.run.signal,
      idempotencyKey: `${scope.tooling.runId}:${key}`,
    });
  });
  const durationMs = scope.now() - startedAt;
  const completedAt = new Date(scope.now()).toISOString();
  if (settled.ok) {
    await finish(scope, key, {
      ...started,
      status: 'succeeded',
      attempts: settled.attempts,
      completedAt,
      durationMs,
      content: settled.content,
    });
    await scope.emit({
      type: 'tool.completed',
      ...ref,
      durationMs,
      attempts: settled.attempts,
      ...(scope.captureContent ? { result: settled.content } : {}),
    });
    return reply(settled.content);
  }
  const error = toErrorInfo(settled.error);
  const content = failureText(settled.error);
  await finish(scope, key, {
    ...started,
    status: 'failed',
    attempts: settled.attempts,
    completedAt,
    durationMs,
    error,
    content,
  });
  await scope.emit({ type: 'tool.failed', ...ref, attempts: settled.attempts, error });
  return reply(content);
}

/** A non-idempotent call found in flight: journaled as failed, reported, and the run fails naming it. */
async function refuseUnknownOutcome(scope: ToolStepScope, key: string, recorded: ToolEntry): Promise<never> {
  const { agent, tool, callId } = recorded;
  const error = new ToolOutcomeUnknownError({ tool, agent, step: key, callId });
  const info = toErrorInfo(error);
  await finish(scope, key, {
    ...recorded,
    status: 'failed',
    error: info,
    completedAt: new Date(scope.now()).toISOString(),
  });
  await scope.emit({
    type: 'tool.failed',
    agent,
    step: key,
    tool,
    callId,
    attempts: recorded.attempts,
    error: info,
  });
  throw error;
}

async function finish(scope: ToolStepScope, key: string, entry: ToolEntry): Promise<void> {
  await scope.journal.put(key, { ...entry, order: performance.timeOrigin + performance.now() });
}
