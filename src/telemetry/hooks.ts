import type { EngineHooks, RuntimeHooks } from '../core/hooks.js';
import type { ModelProvider } from '../core/model.js';
import {
  ATTR_BATON_AGENT_ATTEMPT,
  ATTR_BATON_AGENT_ATTEMPTS,
  ATTR_BATON_PATTERN,
  ATTR_BATON_RUN_ATTEMPT,
  ATTR_BATON_RUN_ID,
  ATTR_BATON_RUN_RESUMED,
  ATTR_BATON_RUN_STATUS,
  ATTR_BATON_STEP_DECISION,
  ATTR_BATON_STEP_KEY,
  ATTR_BATON_TEAM,
  ATTR_GEN_AI_AGENT_DESCRIPTION,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION,
} from './attributes.js';
import { recordAgentCall, recordModelCall, recordRun, recordToolCall } from './metrics.js';
import {
  recordSpanError,
  SpanKind,
  spanNames,
  withAgentContext,
  withRunContext,
  withSpan,
} from './tracing.js';

/**
 * The telemetry of the engine and the agent runtime, attached through their hooks (src/core/hooks.ts): one
 * `baton.run <pattern>` span per execution with the run context every span and log line inside inherits,
 * `baton.step` spans, `invoke_agent` / `chat` spans with the GenAI semantic-convention attributes, and the run,
 * agent-call and model-call metrics. Message content goes on spans only with `captureContent`.
 */

/** `gen_ai.provider.name` values of the GenAI semantic conventions for baton's providers. */
export function genAiProviderName(provider: ModelProvider): string {
  switch (provider) {
    case 'azure-openai':
      return 'azure.ai.openai';
    case 'openai-compatible':
      return 'openai';
    case 'foundry':
      return 'azure.ai.foundry';
    default:
      return 'baton.simulated';
  }
}

export function engineTelemetry(): EngineHooks {
  return {
    run(info, next) {
      const context = { runId: info.runId, pattern: info.pattern, team: info.team };
      const attributes = {
        [ATTR_BATON_RUN_ID]: info.runId,
        [ATTR_BATON_PATTERN]: info.pattern,
        [ATTR_BATON_TEAM]: info.team,
        [ATTR_BATON_RUN_ATTEMPT]: info.attempt,
        [ATTR_BATON_RUN_RESUMED]: info.resumed,
      };
      // Every span and log line inside carries the run id; the run span is the root of the work.
      return withRunContext(context, () =>
        withSpan(spanNames.run(info.pattern), { attributes }, async (span) => {
          const started = performance.now();
          const outcome = await next();
          span.setAttribute(ATTR_BATON_RUN_STATUS, outcome.status);
          if (outcome.status === 'failed' && outcome.error) {
            const { code, message } = outcome.error;
            recordSpanError(span, Object.assign(new Error(message), { name: code, code }));
          }
          recordRun({
            pattern: info.pattern,
            team: info.team,
            status: outcome.status,
            durationMs: performance.now() - started,
            ...(outcome.error && outcome.status !== 'succeeded' ? { errorType: outcome.error.code } : {}),
          });
          return outcome;
        }),
      );
    },
    step(key, next) {
      return withSpan(spanNames.step(key), { attributes: { [ATTR_BATON_STEP_KEY]: key } }, async (span) => {
        const value = await next();
        // A decision that is a plain value (a route, a verdict, a count) is the step's attribute; structured
        // values may carry content and stay in the journal.
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
          span.setAttribute(ATTR_BATON_STEP_DECISION, value);
        }
        return value;
      });
    },
    agentStep: (agent, next) => withAgentContext(agent, next),
    agentReplayed: (agent) => recordAgentCall({ agent, outcome: 'replayed', durationMs: 0 }),
    executeTool(info, next) {
      const attributes = {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.executeTool,
        [ATTR_GEN_AI_TOOL_NAME]: info.tool,
        [ATTR_GEN_AI_TOOL_CALL_ID]: info.callId,
        [ATTR_GEN_AI_TOOL_TYPE]: info.type,
        [ATTR_GEN_AI_AGENT_NAME]: info.agent,
        [ATTR_BATON_STEP_KEY]: info.key,
      };
      const started = performance.now();
      // Arguments and results stay off the span: a tool's answer may carry what its caller's credentials allow.
      return withSpan(spanNames.executeTool(info.tool), { attributes }, async (span) => {
        const settled = await next();
        span.setAttribute(ATTR_BATON_AGENT_ATTEMPTS, settled.attempts);
        if (!settled.ok) recordSpanError(span, settled.error);
        recordToolCall({
          tool: info.tool,
          ok: settled.ok,
          durationMs: performance.now() - started,
          ...(settled.ok ? {} : { errorType: (settled.error as { code?: string }).code ?? 'error' }),
        });
        return settled;
      });
    },
  };
}

export function runtimeTelemetry(options: { captureContent: boolean }): RuntimeHooks {
  return {
    invokeAgent(info, next) {
      const attributes = {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.invokeAgent,
        [ATTR_GEN_AI_AGENT_NAME]: info.agent,
        [ATTR_GEN_AI_AGENT_ID]: info.agent,
        [ATTR_GEN_AI_AGENT_DESCRIPTION]: info.description,
        [ATTR_BATON_STEP_KEY]: info.key,
      };
      const started = performance.now();
      return withSpan(spanNames.invokeAgent(info.agent), { attributes }, async (span) => {
        const settled = await next();
        if (settled.ok) span.setAttribute(ATTR_BATON_AGENT_ATTEMPTS, settled.result.attempts);
        else {
          span.setAttribute(ATTR_BATON_AGENT_ATTEMPTS, settled.attempts);
          recordSpanError(span, settled.error);
        }
        recordAgentCall({
          agent: info.agent,
          outcome: settled.ok ? 'success' : settled.outcome,
          durationMs: performance.now() - started,
        });
        return settled;
      });
    },
    modelCall(info, next) {
      const provider = genAiProviderName(info.provider);
      const attributes = {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.chat,
        [ATTR_GEN_AI_PROVIDER_NAME]: provider,
        [ATTR_GEN_AI_REQUEST_MODEL]: info.requestedModel,
        [ATTR_GEN_AI_AGENT_NAME]: info.agent,
        [ATTR_BATON_AGENT_ATTEMPT]: info.attempt,
        ...(info.temperature !== undefined ? { [ATTR_GEN_AI_REQUEST_TEMPERATURE]: info.temperature } : {}),
        ...(info.maxOutputTokens !== undefined
          ? { [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: info.maxOutputTokens }
          : {}),
        ...(options.captureContent ? { [ATTR_GEN_AI_INPUT_MESSAGES]: JSON.stringify(info.messages) } : {}),
      };
      const started = performance.now();
      return withSpan(
        spanNames.chat(info.requestedModel),
        { kind: SpanKind.CLIENT, attributes },
        async (span) => {
          try {
            const chat = await next();
            span.setAttributes({
              [ATTR_GEN_AI_RESPONSE_MODEL]: chat.model,
              [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: chat.usage.inputTokens,
              [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: chat.usage.outputTokens,
              [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [chat.finishReason],
              ...(options.captureContent
                ? { [ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify([chat.message]) }
                : {}),
            });
            recordModelCall({
              provider,
              requestModel: info.requestedModel,
              durationMs: performance.now() - started,
              responseModel: chat.model,
              inputTokens: chat.usage.inputTokens,
              outputTokens: chat.usage.outputTokens,
            });
            return chat;
          } catch (err) {
            recordModelCall({
              provider,
              requestModel: info.requestedModel,
              durationMs: performance.now() - started,
              errorType: 'error',
            });
            throw err;
          }
        },
      );
    },
  };
}
