/**
 * Attribute names baton puts on spans, metrics and log records. The `gen_ai.*` names follow the
 * OpenTelemetry GenAI semantic conventions; the `baton.*` names are baton's own. Use these constants
 * instead of string literals so a rename is one edit and a typo is a compile error.
 */

// ── baton ────────────────────────────────────────────────────────────────────────────────────────
/** The run id (= BullMQ job id). Copied onto every span started inside `withRunContext`. */
export const ATTR_BATON_RUN_ID = 'baton.run.id';
/** The orchestration pattern: `sequential`, `concurrent`, `handoff`, `magentic`. */
export const ATTR_BATON_PATTERN = 'baton.pattern';
/** The team name. */
export const ATTR_BATON_TEAM = 'baton.team';
/** 1-based attempt number of one agent call (the runtime's retries). */
export const ATTR_BATON_AGENT_ATTEMPT = 'baton.agent.attempt';
/** `true` when the run is executing again after a worker died (the journal replays completed steps). */
export const ATTR_BATON_RUN_RESUMED = 'baton.run.resumed';
/** 1-based execution attempt of the whole run (job deliveries: > 1 after a worker died or a job retry). */
export const ATTR_BATON_RUN_ATTEMPT = 'baton.run.attempt';
/** The attempt stopped at a step boundary because its worker was draining; another worker resumes the run. */
export const ATTR_BATON_RUN_HANDED_OVER = 'baton.run.handed_over';
/** Number of attempts one agent call took (on `invoke_agent`). */
export const ATTR_BATON_AGENT_ATTEMPTS = 'baton.agent.attempts';
/** The worker process that executed the run. */
export const ATTR_BATON_WORKER_ID = 'baton.worker.id';
/** On a span link: why the link exists (`enqueue`: the span that enqueued the run). */
export const ATTR_BATON_LINK = 'baton.link';
/** Final run status on the run span and the `baton.runs` counter: `succeeded`, `failed`, `cancelled`. */
export const ATTR_BATON_RUN_STATUS = 'baton.run.status';
/** Journal step key of an orchestration step (`seq/2/agent:extractor`). */
export const ATTR_BATON_STEP_KEY = 'baton.step.key';
/** `true` when a step's result came from the journal instead of running again. */
export const ATTR_BATON_STEP_REPLAYED = 'baton.step.replayed';
/** An orchestration step's decision when it is a plain value (a route, a verdict, a count). */
export const ATTR_BATON_STEP_DECISION = 'baton.step.decision';
/** How one agent call ended, on `baton.agent.call.duration`: see `AgentCallOutcome`. */
export const ATTR_BATON_AGENT_OUTCOME = 'baton.agent.outcome';
/** Circuit-breaker state name on breaker events: `closed`, `half-open`, `open`. */
export const ATTR_BATON_BREAKER_STATE = 'baton.breaker.state';
/** Queue name on the queue gauges (`runs`). */
export const ATTR_BATON_QUEUE = 'baton.queue';

// ── GenAI semantic conventions ───────────────────────────────────────────────────────────────────
/** `invoke_agent`, `chat`, `execute_tool`, `create_agent`, … */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_AGENT_DESCRIPTION = 'gen_ai.agent.description';
/** `azure.ai.openai`, `openai`, `azure.ai.inference`, or `baton.simulated` for the simulated model. */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const ATTR_GEN_AI_REQUEST_SEED = 'gen_ai.request.seed';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
/** `input` or `output`, on `gen_ai.client.token.usage`. */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
/** Content attributes: only set when `BATON_CAPTURE_CONTENT=true`. JSON strings. */
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions';
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';

// ── messaging semantic conventions (the `runs` queue) ────────────────────────────────────────────
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';

// ── general semantic conventions ─────────────────────────────────────────────────────────────────
/** The error's stable code (baton errors) or class name; `_OTHER` when neither is known. */
export const ATTR_ERROR_TYPE = 'error.type';

/** Values of `gen_ai.operation.name` baton uses. */
export const GEN_AI_OPERATION = {
  invokeAgent: 'invoke_agent',
  chat: 'chat',
  executeTool: 'execute_tool',
} as const;

/** Values of `gen_ai.token.type`. */
export const GEN_AI_TOKEN_TYPE = { input: 'input', output: 'output' } as const;

/** The tracer and meter name every baton span and instrument uses. */
export const INSTRUMENTATION_SCOPE = 'baton';
