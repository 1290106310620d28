import type { AIProjectClientOptionalParams } from '@azure/ai-projects';
import type { TokenCredential } from '@azure/identity';
import { type Config, ConfigError, loadConfig } from './config/index.js';
import { BatonError } from './core/errors.js';
import { createFoundryProvisioner, type ProvisionResult } from './models/foundry-provision.js';
import { loadTeamFiles } from './services.js';
import { deployTeamToFoundry } from './teams/foundry-deploy.js';
import type { TeamDefinition } from './teams/schema.js';

/**
 * `baton teams deploy <team> --to foundry`: provisions every Foundry agent of a team (agents on the `foundry`
 * provider) as a version of a Foundry agent in AZURE_AI_PROJECT_ENDPOINT's project; an agent whose latest version
 * already holds its definition is left as it is. Prints one line per agent; exit code 0 when every agent is
 * deployed, 1 when the team or a deploy is refused, 2 when the configuration is incomplete.
 */

export interface TeamsDeployFlags {
  to: string;
  /** The model deployment of agents whose definition names none. */
  model?: string | undefined;
}

export interface TeamsDeployIO {
  env?: NodeJS.ProcessEnv;
  /** The teams to deploy from (default: the teams this configuration serves). */
  teams?: (config: Config) => ReadonlyMap<string, TeamDefinition>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** The Foundry project's credential and HTTP client (tests point them at a local server). */
  foundry?: {
    credential?: TokenCredential;
    httpClient?: NonNullable<AIProjectClientOptionalParams['httpClient']>;
  };
}

function describeResult(result: ProvisionResult, agent: string): string {
  const was = result.previousVersion && result.outcome === 'created' ? `; was ${result.previousVersion}` : '';
  return `${agent} → Foundry agent "${result.name}" version ${result.version} (${result.outcome}${was})`;
}

export async function teamsDeployCommand(
  teamName: string,
  flags: TeamsDeployFlags,
  io: TeamsDeployIO = {},
): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const say = (line: string) => stderr.write(`baton teams deploy: ${line}\n`);
  let config: Config;
  try {
    config = loadConfig(io.env ?? process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      return 2;
    }
    throw err;
  }
  if (flags.to !== 'foundry') {
    say(`unknown target "${flags.to}"; the only target is foundry.`);
    return 1;
  }
  const endpoint = config.env.AZURE_AI_PROJECT_ENDPOINT;
  if (!endpoint) {
    say(
      'deploying to Foundry needs AZURE_AI_PROJECT_ENDPOINT (https://<resource>.services.ai.azure.com/api/projects/<project>).',
    );
    return 2;
  }
  const teams = (io.teams ?? fileTeams)(config);
  const team = teams.get(teamName);
  if (!team) {
    say(`unknown team "${teamName}"; known teams: ${[...teams.keys()].join(', ')}.`);
    return 1;
  }
  const provisioner = createFoundryProvisioner({
    endpoint,
    credential: io.foundry?.credential,
    httpClient: io.foundry?.httpClient,
  });
  try {
    await deployTeamToFoundry(team, provisioner, {
      defaultProvider: config.models.provider,
      defaultDeployment: flags.model,
      onResult: (result, plan) =>
        stdout.write(`${describeResult(result, plan.metadata?.['baton-agent'] ?? plan.name)}\n`),
    });
    return 0;
  } catch (err) {
    if (err instanceof BatonError) {
      say(err.message);
      return 1;
    }
    throw err;
  }
}

/** The teams of the team files, by name (what `baton teams deploy` provisions). */
function fileTeams(config: Config): ReadonlyMap<string, TeamDefinition> {
  return new Map(loadTeamFiles(config).map(({ team }) => [team.name, team]));
}
