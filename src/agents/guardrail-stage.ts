import { abortSignalOf, type RunAbortSignal } from '../core/abort.js';
import type { AgentCall } from '../core/agent.js';
import { GuardrailBlockedError } from '../core/errors.js';
import type { AgentCallSettlement } from '../core/hooks.js';
import type { RunGuardrails } from '../guardrails/index.js';

/** What the stage reads of the runtime's request. */
interface GuardedRequest {
  agent: { name: string };
  call: AgentCall;
  signal: RunAbortSignal;
}

/**
 * The guardrails stage around one agent call: the input checks shape (or refuse) the messages before the policy
 * chain runs, and the answer checks judge what came back — a broken answer rule re-asks once when the team says
 * so, naming the rule, and otherwise fails the call with `GUARDRAIL_BLOCKED`. The answer keeps its placeholders
 * here: the journal stores it so, and the run's output is restored at the end.
 */
export async function guardedInvoke<R extends GuardedRequest>(
  req: R,
  guardrails: RunGuardrails,
  invoke: (req: R) => Promise<AgentCallSettlement>,
): Promise<AgentCallSettlement> {
  // The checks call Content Safety over HTTP: they need a real AbortSignal.
  const ref = { agent: req.agent.name, step: req.call.key, signal: abortSignalOf(req.signal) };
  const messages = await guardrails.beforeCall(ref, req.call.messages);
  const call = { ...req.call, messages };
  const first = await invoke({ ...req, call });
  if (!first.ok) return first;
  const verdict = await guardrails.afterCall(ref, first.result.text, 1);
  if (verdict.ok) return first;
  if (verdict.reask) {
    const again = await invoke({
      ...req,
      call: {
        ...call,
        messages: [
          ...messages,
          { role: 'assistant', content: first.result.text },
          {
            role: 'user',
            content: `Your answer broke ${verdict.hint ?? `this team's answer rule "${verdict.rule}"`}. Answer again and keep to it.`,
          },
        ],
      },
    });
    if (!again.ok) return again;
    const second = await guardrails.afterCall(ref, again.result.text, 2);
    if (second.ok) return combined(first, again);
    throw new GuardrailBlockedError(second.guardrail, 'output', ref.agent, `broke ${second.rule}`);
  }
  throw new GuardrailBlockedError(verdict.guardrail, 'output', ref.agent, `broke ${verdict.rule}`);
}

/** The re-asked answer, with what both requests spent. */
function combined(
  first: Extract<AgentCallSettlement, { ok: true }>,
  again: Extract<AgentCallSettlement, { ok: true }>,
): AgentCallSettlement {
  const a = first.result;
  const b = again.result;
  const cost =
    a.costUsd !== undefined || b.costUsd !== undefined ? (a.costUsd ?? 0) + (b.costUsd ?? 0) : undefined;
  return {
    ok: true,
    requests: first.requests + again.requests,
    result: {
      ...b,
      usage: {
        inputTokens: a.usage.inputTokens + b.usage.inputTokens,
        outputTokens: a.usage.outputTokens + b.usage.outputTokens,
      },
      attempts: a.attempts + b.attempts,
      durationMs: a.durationMs + b.durationMs,
      ...(cost !== undefined ? { costUsd: cost } : {}),
    },
  };
}
