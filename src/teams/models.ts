import type { Config } from '../config/index.js';
import type { ModelProvider, ModelSettings } from '../core/model.js';
import { defaultDeployment, missingProviderConfig } from '../models/router.js';
import type { TeamDefinition, TeamModel } from './schema.js';

/** What team checks need to know of the operator's model configuration. */
export interface ModelEnvironment {
  /** BATON_MODEL_PROVIDER: the provider of an agent that names none. */
  defaultProvider: ModelProvider;
  /** Why `provider` cannot serve requests here (its settings are missing); undefined when it is configured. */
  unconfigured(provider: ModelProvider): string | undefined;
  /** The deployment of an agent of `provider` that names none (AZURE_OPENAI_DEPLOYMENT, BATON_MODEL, ...). */
  defaultDeployment(provider: ModelProvider): string | undefined;
}

export function modelEnvironment(config: Config): ModelEnvironment {
  return {
    defaultProvider: config.models.provider,
    unconfigured: (provider) => missingProviderConfig(config, provider),
    defaultDeployment: (provider) => defaultDeployment(config, provider),
  };
}

/** A model check that failed: where in the team document, and why. */
export interface ModelProblem {
  path: (string | number)[];
  message: string;
}

/** The provider and deployment a call with `settings` goes to (the same key quotas and prices use). */
function target(settings: ModelSettings, agent: string, env: ModelEnvironment) {
  const provider = settings.provider ?? env.defaultProvider;
  const deployment =
    provider === 'foundry'
      ? (settings.deployment ?? settings.foundryAgent ?? agent)
      : (settings.deployment ?? env.defaultDeployment(provider) ?? provider);
  return { provider, deployment };
}

function allowedBy(models: readonly TeamModel[], provider: ModelProvider, deployment: string): boolean {
  return models.some(
    (m) => m.provider === provider && (m.deployment === undefined || m.deployment === deployment),
  );
}

function listed(models: readonly TeamModel[]): string {
  return models.map((m) => (m.deployment ? `${m.provider}/${m.deployment}` : `${m.provider}/*`)).join(', ');
}

/** One agent's model settings against the environment and the team's `models`. */
function settingsProblems(
  team: TeamDefinition,
  agent: string,
  settings: ModelSettings,
  path: (string | number)[],
  env: ModelEnvironment,
): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const named = settings.provider;
  const missing = named === undefined ? undefined : env.unconfigured(named);
  if (named !== undefined && missing) {
    problems.push({
      path: [...path, 'provider'],
      message: `names provider ${named}, which is not configured (${missing.replace(/\.$/, '')})`,
    });
  }
  const { provider, deployment } = target(settings, agent, env);
  if (team.models && !allowedBy(team.models, provider, deployment)) {
    problems.push({
      path,
      message: `uses ${provider}/${deployment}, which is not in the team's models (${listed(team.models)})`,
    });
  }
  return problems;
}

/**
 * The checks a team document passes before it is loaded or registered: every provider an agent (or a variant)
 * names is configured, and every agent's model is in the team's own `models` list when it has one.
 */
export function teamModelProblems(team: TeamDefinition, env: ModelEnvironment): ModelProblem[] {
  const problems = team.agents.flatMap((a, i) =>
    settingsProblems(team, a.name, a.model, ['agents', i, 'model'], env),
  );
  for (const [variant, overlay] of Object.entries(team.variants ?? {})) {
    for (const [name, o] of Object.entries(overlay.agents)) {
      const agent = team.agents.find((a) => a.name === name);
      if (!agent || !o.model) continue;
      const path = ['variants', variant, 'agents', name, 'model'];
      problems.push(...settingsProblems(team, name, { ...agent.model, ...o.model }, path, env));
    }
  }
  return problems;
}

/**
 * The team's side of the run-time model check: a run's `options.model` replaces parts of every agent's model
 * settings, and each resulting model must be in the team's `models`. One sentence when it is not. (The operator's
 * own allow-list is a separate check beside this one.)
 */
export function runModelProblem(
  team: TeamDefinition,
  override: ModelSettings | undefined,
  env: ModelEnvironment,
): string | undefined {
  const models = team.models;
  if (!models || !override) return undefined;
  for (const agent of team.agents) {
    const { provider, deployment } = target({ ...agent.model, ...override }, agent.name, env);
    if (!allowedBy(models, provider, deployment)) {
      return `Team "${team.name}" may not use ${provider}/${deployment} (its models: ${listed(models)}).`;
    }
  }
  return undefined;
}
