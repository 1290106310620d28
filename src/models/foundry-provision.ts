import {
  type AgentVersion,
  AIProjectClient,
  type AIProjectClientOptionalParams,
  type FunctionTool,
  type PromptAgentDefinition,
} from '@azure/ai-projects';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { BatonError } from '../core/errors.js';
import { isStrictCompatible } from './structured.js';

/**
 * Provisioning Foundry agents from baton's agent definitions, through `@azure/ai-projects` 2.x. A Foundry agent is a
 * name with immutable, numbered versions; each version holds a prompt-agent definition (model deployment,
 * instructions, sampling, tools, structured-output format). For one agent:
 *
 * 1. `project.agents.get(name)` (`GET {endpoint}/agents/{name}?api-version=v1`) — the agent with its latest
 *    version, or 404 when there is none yet;
 * 2. when the latest version's definition is the one wanted, nothing is created (a deploy of an unchanged team is
 *    a no-op); otherwise `project.agents.createVersion(name, definition, { description, metadata })`
 *    (`POST {endpoint}/agents/{name}/versions?api-version=v1`) creates the next version (and the agent with it).
 *
 * This module takes plain agent data (`FoundryAgentPlan`), not baton's team schema: the caller says what to deploy.
 * Function tools use the flat shape the package serialises (`{ type: 'function', name, parameters, strict }`); the
 * nested Chat Completions shape would be sent as a bare `{ type: 'function' }`.
 */

type HttpClient = NonNullable<AIProjectClientOptionalParams['httpClient']>;

/** What to deploy as one Foundry agent. */
export interface FoundryAgentPlan {
  /** The Foundry agent name (what `model.foundryAgent` names at run time). */
  name: string;
  /** The model deployment in the Foundry resource. */
  model: string;
  instructions: string;
  /** A human-readable description, stored on the version. */
  description?: string | undefined;
  temperature?: number | undefined;
  /** JSON Schema of the agent's answers: deployed as the `json_schema` text format. */
  outputSchema?: Record<string, unknown> | undefined;
  /** Function tools the agent may call (baton runs them and sends the results back). */
  tools?: readonly FoundryFunctionTool[] | undefined;
  /** Stored on the version (at most 16 keys; keys ≤ 64 characters, values ≤ 512). */
  metadata?: Record<string, string> | undefined;
}

export interface FoundryFunctionTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ProvisionResult {
  name: string;
  /** The version that now holds the definition. */
  version: string;
  /** `created`: a new version; `unchanged`: the latest version already had this definition. */
  outcome: 'created' | 'unchanged';
  /** The latest version before this deploy, if the agent existed. */
  previousVersion?: string;
}

export interface FoundryProvisioner {
  provision(plan: FoundryAgentPlan, options?: { signal?: AbortSignal }): Promise<ProvisionResult>;
}

export interface FoundryProvisionerOptions {
  /** AZURE_AI_PROJECT_ENDPOINT: `https://<resource>.services.ai.azure.com/api/projects/<project>`. */
  endpoint: string;
  /** Entra ID credential; defaults to `DefaultAzureCredential`. */
  credential?: TokenCredential | undefined;
  /** HTTP client of the project client's Azure pipeline (tests point it at a local server). */
  httpClient?: HttpClient | undefined;
}

/** A deploy the Foundry project refused or could not be asked: one sentence naming the agent and the reason. */
export class FoundryProvisionError extends BatonError {
  constructor(agent: string, message: string, details: Record<string, unknown> = {}) {
    super('FOUNDRY_PROVISION_FAILED', `Foundry agent "${agent}": ${message}`, { agent, ...details });
  }
}

/** The response-format name Foundry accepts: letters, digits, `_` and `-`, at most 64. */
function formatName(agent: string): string {
  return agent.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'output';
}

/** The prompt-agent definition a plan deploys (what `createVersion` is given). */
export function promptDefinition(plan: FoundryAgentPlan): PromptAgentDefinition {
  const tools: FunctionTool[] = (plan.tools ?? []).map((t) => ({
    type: 'function',
    name: t.name,
    description: t.description,
    parameters: t.parameters,
    strict: isStrictCompatible(t.parameters),
  }));
  return {
    kind: 'prompt',
    model: plan.model,
    instructions: plan.instructions,
    ...(plan.temperature !== undefined ? { temperature: plan.temperature } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(plan.outputSchema
      ? {
          text: {
            format: {
              type: 'json_schema',
              name: formatName(plan.name),
              schema: plan.outputSchema,
              strict: isStrictCompatible(plan.outputSchema),
            },
          },
        }
      : {}),
  };
}

/** JSON with object keys sorted and `undefined` members left out, so equal definitions compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * The parts of a definition baton manages, as the service returns them: kind, model, instructions, temperature,
 * tools and text format. An empty tool list and no tool list are the same; anything else the service adds to a
 * stored definition (defaults it fills in) does not make a deploy create a version.
 */
function managedParts(definition: unknown): Record<string, unknown> {
  const d = (definition ?? {}) as Record<string, unknown>;
  const tools = Array.isArray(d.tools) ? d.tools : [];
  const text = d.text as { format?: Record<string, unknown> } | undefined;
  const format = text?.format;
  return {
    kind: d.kind,
    model: d.model,
    instructions: d.instructions ?? '',
    temperature: d.temperature,
    tools: tools.map((t: Record<string, unknown>) => ({
      type: t.type,
      name: t.name,
      description: t.description,
      parameters: t.parameters,
      strict: t.strict,
    })),
    format:
      format && format.type !== 'text'
        ? { type: format.type, name: format.name, schema: format.schema, strict: format.strict }
        : undefined,
  };
}

/** Whether a stored version already holds the definition a plan deploys. */
export function sameDefinition(stored: unknown, wanted: PromptAgentDefinition): boolean {
  return canonical(managedParts(stored)) === canonical(managedParts(wanted));
}

/** A `RestError` of Azure core, by shape (the class lives in a transitive package). */
interface RestErrorLike {
  name: string;
  message: string;
  statusCode?: number;
  details?: unknown;
}

function isRestError(err: unknown): err is RestErrorLike {
  return err instanceof Error && err.name === 'RestError';
}

function refusal(agent: string, err: unknown): unknown {
  if (!isRestError(err)) return err;
  const body = err.details as { error?: { message?: unknown; code?: unknown; param?: unknown } } | undefined;
  const reason = typeof body?.error?.message === 'string' ? body.error.message : err.message;
  const param = typeof body?.error?.param === 'string' ? ` (${body.error.param})` : '';
  return new FoundryProvisionError(agent, `the project refused the deploy: ${reason}${param}`, {
    status: err.statusCode,
    ...(typeof body?.error?.code === 'string' ? { providerCode: body.error.code } : {}),
  });
}

export function createFoundryProvisioner(options: FoundryProvisionerOptions): FoundryProvisioner {
  const project = new AIProjectClient(options.endpoint, options.credential ?? new DefaultAzureCredential(), {
    ...(options.httpClient ? { httpClient: options.httpClient } : {}),
  });

  async function latestVersion(
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<AgentVersion | undefined> {
    try {
      const agent = await project.agents.get(name, signal ? { abortSignal: signal } : {});
      return agent.versions.latest;
    } catch (err) {
      if (isRestError(err) && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  return {
    async provision(plan, { signal } = {}) {
      const definition = promptDefinition(plan);
      try {
        const latest = await latestVersion(plan.name, signal);
        if (latest && sameDefinition(latest.definition, definition)) {
          return {
            name: plan.name,
            version: latest.version,
            outcome: 'unchanged',
            previousVersion: latest.version,
          };
        }
        const created = await project.agents.createVersion(plan.name, definition, {
          ...(plan.description ? { description: plan.description } : {}),
          ...(plan.metadata ? { metadata: plan.metadata } : {}),
          ...(signal ? { abortSignal: signal } : {}),
        });
        return {
          name: plan.name,
          version: created.version,
          outcome: 'created',
          ...(latest ? { previousVersion: latest.version } : {}),
        };
      } catch (err) {
        throw refusal(plan.name, err);
      }
    },
  };
}
