import { BatonError } from '../core/errors.js';
import type { TeamDefinition } from './schema.js';
import { withVariant } from './variants.js';
import { definitionVersion } from './version.js';

/** A team as a resolver returns it: the version (its registry name) and the definition runs execute. */
export interface VersionedTeam {
  version: string;
  team: TeamDefinition;
}

/**
 * How the lifecycle and the engine find teams. A new run takes a team's current version; a run in flight asks for
 * exactly the version it recorded, which stays resolvable after newer versions are registered or the team is
 * retired, so a run finishes on the version it started with.
 */
export interface TeamResolver {
  /** The version new runs of `name` take; undefined when there is no such team (or it is retired). */
  current(name: string): Promise<VersionedTeam | undefined>;
  /** Version `version` of `name`, current or not; undefined when it was never known. */
  version(name: string, version: string): Promise<TeamDefinition | undefined>;
  /** The current version of every team new runs may use, in name order. */
  list(): Promise<VersionedTeam[]>;
}

/** A fixed set of teams (evals, benchmarks, tests): each team's version is its own `definitionVersion`. */
export function staticTeams(
  teams: ReadonlyMap<string, TeamDefinition> | readonly TeamDefinition[],
): TeamResolver {
  const list = Array.isArray(teams) ? teams : [...(teams as ReadonlyMap<string, TeamDefinition>).values()];
  const byName = new Map<string, VersionedTeam>(
    list.map((team: TeamDefinition) => [team.name, { version: definitionVersion(team), team }]),
  );
  return {
    current: async (name) => byName.get(name),
    version: async (name, version) => {
      const found = byName.get(name);
      return found?.version === version ? found.team : undefined;
    },
    list: async () => [...byName.values()].sort((a, b) => a.team.name.localeCompare(b.team.name)),
  };
}

/** A run's team could not be resolved: an unknown team, version or variant. */
export class TeamResolutionError extends BatonError {}

/** What a run executes: the team (its variant applied), the registry version it came from and its own version. */
export interface RunTeam {
  team: TeamDefinition;
  /** The registry version the run is pinned to (what a resumed or retried run asks for again). */
  teamVersion: string;
  /** `definitionVersion` of what the run executes: the team version with the variant (and overrides) applied. */
  definitionVersion: string;
  variant?: string;
}

/**
 * Resolves the team of a run: version `teamVersion` when the run names one (a new run may pin one; a run in
 * flight always does), else the current version; then the variant of `options.variant`.
 */
export async function resolveRunTeam(
  teams: TeamResolver,
  request: { team: string; teamVersion?: string | undefined; variant?: string | undefined },
): Promise<RunTeam> {
  let versioned: VersionedTeam | undefined;
  if (request.teamVersion !== undefined) {
    const team = await teams.version(request.team, request.teamVersion);
    versioned = team ? { version: request.teamVersion, team } : undefined;
    if (!versioned) {
      throw new TeamResolutionError(
        'UNKNOWN_TEAM_VERSION',
        `Team "${request.team}" has no version "${request.teamVersion}".`,
        { team: request.team, teamVersion: request.teamVersion },
      );
    }
  } else {
    versioned = await teams.current(request.team);
    if (!versioned) {
      const known = (await teams.list()).map((t) => t.team.name);
      throw new TeamResolutionError('UNKNOWN_TEAM', `There is no team "${request.team}".`, { teams: known });
    }
  }
  const team = withVariant(versioned.team, request.variant);
  if (!team) {
    const variants = ['base', ...Object.keys(versioned.team.variants ?? {})];
    throw new TeamResolutionError(
      'UNKNOWN_VARIANT',
      `Team "${request.team}" has no variant "${request.variant}" (its variants: ${variants.join(', ')}).`,
      { variants },
    );
  }
  return {
    team,
    teamVersion: versioned.version,
    definitionVersion: definitionVersion(team),
    ...(request.variant !== undefined ? { variant: request.variant } : {}),
  };
}
