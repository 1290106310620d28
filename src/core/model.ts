import { z } from 'zod';

/**
 * The model contract every layer shares: provider names, model settings, and the `ChatModel` interface with its
 * request and result. Providers (src/models/) implement it; the agent runtime calls it.
 */

export const modelProviders = ['simulated', 'azure-openai', 'openai-compatible', 'foundry'] as const;
export type ModelProvider = (typeof modelProviders)[number];

/**
 * What a deployment, model or Foundry agent name may look like: letters, digits, `.`, `_`, `-` and `:` (as in
 * `llama3.1:8b`), starting with a letter or digit. No `/`, `?`, `#`, `%` or spaces: names go into request paths.
 */
export const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const modelName = z
  .string()
  .regex(modelNamePattern, 'must be letters, digits, ".", "_", "-" or ":" (at most 128, no path characters)');

/** Which model serves an agent, with its parameters. Set in an agent definition, overridable per run. */
export const modelSettingsSchema = z
  .object({
    provider: z.enum(modelProviders).optional().describe('Defaults to BATON_MODEL_PROVIDER.'),
    deployment: modelName
      .optional()
      .describe('Azure deployment or model name; defaults to AZURE_OPENAI_DEPLOYMENT / BATON_MODEL.'),
    foundryAgent: modelName.optional().describe('Azure AI Foundry agent name (provider foundry).'),
    temperature: z.number().min(0).max(2).optional(),
    seed: z.number().int().optional(),
    maxOutputTokens: z.number().int().positive().optional(),
  })
  .strict();
export type ModelSettings = z.infer<typeof modelSettingsSchema>;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text, as models send it. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string; name?: string }
  | { role: 'assistant'; content: string; name?: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; content: string; toolCallId: string };

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ResponseFormat {
  name: string;
  /** JSON Schema the answer must satisfy (the agent's output schema). */
  schema: Record<string, unknown>;
  strict: boolean;
}

/** How the simulated model plays an agent: a named deterministic skill (see src/simulation/). */
export const simulationSchema = z.object({ skill: z.string().min(1) }).strict();
export type Simulation = z.infer<typeof simulationSchema>;

export interface ChatRequest {
  /** The calling agent's name (for routing decisions of the simulated model and for telemetry). */
  agent: string;
  model: ModelSettings;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: 'auto' | 'none' | 'required';
  /** False on turns where a handoff is possible: a handoff is an exclusive decision. */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /** Seed for deterministic providers; real providers pass `model.seed` instead. */
  seed: number;
  simulation?: Simulation;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  message: { role: 'assistant'; content: string };
  toolCalls: ToolCall[];
  usage: TokenUsage;
  /** The model that answered, as the provider reports it. */
  model: string;
  finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';
  /** Provider response (for record/replay and debugging); never logged. */
  raw?: unknown;
}

export interface ChatCallOptions {
  /** Aborts the request: a timed-out or cancelled call is really closed. */
  signal: AbortSignal;
  /** When given, the provider streams and calls this with each text delta. */
  onDelta?: (text: string) => void;
  /**
   * Requests this call may make (default 2): with 1, a provider sends no corrective re-ask for an invalid
   * structured answer (the run's budget has no room for it).
   */
  maxRequests?: number;
}

/**
 * One model provider. Providers honour the abort signal and throw the typed `ModelError`s of `../errors.ts`;
 * they never retry on their own (the agent runtime owns retries, so attempts are visible).
 */
export interface ChatModel {
  readonly provider: ModelProvider;
  complete(request: ChatRequest, options: ChatCallOptions): Promise<ChatResult>;
  /**
   * Resolves once a call would go out at once: a provider that loads its SDK on first use loads it here. Policies
   * that time a call (a quota's grant) wait for it first, so the grant is not spent while the SDK loads.
   */
  ready?(): Promise<void>;
}

/** Resolves the model serving one request; providers are created once per process. */
export interface ModelRouter {
  modelFor(settings: ModelSettings): ChatModel;
}
