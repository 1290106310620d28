import { abortSignalOf } from '../core/abort.js';
import type { AgentCall, AgentResult } from '../core/agent.js';
import { BatonError, RunWaitingError, ToolOutcomeUnknownError, toErrorInfo } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { EngineHooks } from '../core/hooks.js';
import type { ToolCall } from '../core/model.js';
import type { HumanAnswer } from '../core/run.js';
import type { ToolCallSettlement, ToolLoop, ToolMessage } from '../core/tools.js';
import type { RunJournal, ToolEntry } from '../runs/journal.js';
import type { ExecutableTool, ToolRuntime, ToolTeam } from '../tools/runtime.js';
import type { HumanAsk } from './human-input.js';
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
  /** Asks a person (a journaled human step): approvals of `approval: always` tools. */
  human?: ((key: string, ask: HumanAsk) => Promise<HumanAnswer>) | undefined;
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
      // A call that waits for approval does not stop the turn's other calls: they run to their journaled end
      // first, so none is left in flight when the run lets go of its worker.
      let waiting: RunWaitingError | undefined;
      const lane = async () => {
        while (next < calls.length) {
          const i = next++;
          try {
            out[i] = await toolStep(scope, call, round, i, calls[i] as ToolCall, byName);
          } catch (err) {
            if (!(err instanceof RunWaitingError)) throw err;
            waiting ??= err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(scope.tooling.concurrency, calls.length) }, lane));
      if (waiting) throw waiting;
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

/**
 * A call of an `approval: always` tool first waits for a person (a journaled human step under `<key>/approval`,
 * with the arguments the model chose). A rejection — or an expiry, whose default is reject — is what the model
 * sees as the call's result, and the tool is never called; an approval may edit the arguments.
 */
async function approval(
  scope: ToolStepScope,
  call: AgentCall,
  key: string,
  toolCall: ToolCall,
  tool: ExecutableTool | undefined,
): Promise<{ rejected?: string; arguments?: string }> {
  if (tool?.declaration.approval !== 'always' || !scope.human) return {};
  let args: unknown = toolCall.arguments;
  try {
    args = JSON.parse(toolCall.arguments);
  } catch {
    // Shown to the reviewer as the model sent it.
  }
  const answer = await scope.human(`${key}/approval`, {
    kind: 'approval',
    agent: call.agent,
    tool: toolCall.name,
    arguments: args,
    timeoutMs: tool.declaration.approvalTimeoutMs ?? scope.tooling.team.approvalTimeoutMs,
  });
  if (answer.decision === 'approve') {
    return answer.arguments !== undefined ? { arguments: JSON.stringify(answer.arguments) } : {};
  }
  const why = answer.expired
    ? 'no reviewer decided before the request expired, so the call was rejected'
    : `the reviewer rejected this call${answer.comment ? `: ${answer.comment}` : ''}`;
  return { rejected: JSON.stringify({ error: { code: 'TOOL_CALL_REJECTED', message: why } }) };
}

/** One tool call as a journaled step. */
async function toolStep(
  scope: ToolStepScope,
  call: AgentCall,
  round: number,
  index: number,
  requested: ToolCall,
  byName: ReadonlyMap<string, ExecutableTool>,
): Promise<ToolMessage> {
  let toolCall = requested;
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
  const approved = await approval(scope, call, key, toolCall, tool);
  if (approved.rejected !== undefined) return reply(approved.rejected);
  if (approved.arguments !== undefined) toolCall = { ...toolCall, arguments: approved.arguments };
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
      // Tools abort requests and use cockatiel: they need a real AbortSignal.
      signal: abortSignalOf(scope.run.signal),
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
