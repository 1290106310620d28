import { BatonError } from '../core/errors.js';
import type { ModelProvider } from '../core/model.js';
import type { FoundryAgentPlan, FoundryProvisioner, ProvisionResult } from '../models/foundry-provision.js';
import type { TeamDefinition } from './schema.js';

/**
 * A team's Foundry agents as deploy plans: every agent whose provider is `foundry` (its `model.provider`, or the
 * process default when it names none) becomes one Foundry agent, named as the `foundry` provider will look it up
 * at run time (`model.foundryAgent`, else the baton agent's name), with its instructions, model deployment,
 * temperature, and its output schema as the structured-output format.
 */

export interface FoundryDeployOptions {
  /** The provider of agents whose definition names none (BATON_MODEL_PROVIDER). */
  defaultProvider: ModelProvider;
  /** The model deployment of agents whose definition names none. */
  defaultDeployment?: string | undefined;
}

export class TeamDeployError extends BatonError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('TEAM_DEPLOY_INVALID', message, details);
  }
}

export function foundryPlans(team: TeamDefinition, options: FoundryDeployOptions): FoundryAgentPlan[] {
  const plans: FoundryAgentPlan[] = [];
  const byFoundryName = new Map<string, string>();
  for (const agent of team.agents) {
    if ((agent.model.provider ?? options.defaultProvider) !== 'foundry') continue;
    const name = agent.model.foundryAgent ?? agent.name;
    const model = agent.model.deployment ?? options.defaultDeployment;
    if (!model) {
      throw new TeamDeployError(
        `Agent "${agent.name}" of team "${team.name}" names no model deployment: set its model.deployment or pass --model.`,
        { team: team.name, agent: agent.name },
      );
    }
    const other = byFoundryName.get(name);
    if (other) {
      throw new TeamDeployError(
        `Agents "${other}" and "${agent.name}" of team "${team.name}" would both be Foundry agent "${name}": give one a model.foundryAgent.`,
        { team: team.name, agents: [other, agent.name] },
      );
    }
    byFoundryName.set(name, agent.name);
    plans.push({
      name,
      model,
      instructions: agent.instructions,
      description: agent.description,
      ...(agent.model.temperature !== undefined ? { temperature: agent.model.temperature } : {}),
      ...(agent.outputSchema ? { outputSchema: agent.outputSchema.jsonSchema } : {}),
      tools: [],
      metadata: { 'baton-team': team.name, 'baton-agent': agent.name },
    });
  }
  return plans;
}

/** Deploys every Foundry agent of `team`, one after another; the first refusal stops the deploy. */
export async function deployTeamToFoundry(
  team: TeamDefinition,
  provisioner: FoundryProvisioner,
  options: FoundryDeployOptions & { onResult?: (result: ProvisionResult, plan: FoundryAgentPlan) => void },
): Promise<ProvisionResult[]> {
  const plans = foundryPlans(team, options);
  if (plans.length === 0) {
    throw new TeamDeployError(
      `Team "${team.name}" has no agent on the foundry provider (model.provider: foundry, or BATON_MODEL_PROVIDER=foundry).`,
      { team: team.name },
    );
  }
  const results: ProvisionResult[] = [];
  for (const plan of plans) {
    const result = await provisioner.provision(plan);
    results.push(result);
    options.onResult?.(result, plan);
  }
  return results;
}
