import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError } from '../core/errors.js';
import { parseTeamText, problemSentence, type TeamProblem } from './document.js';
import type { ModelEnvironment } from './models.js';
import type { TeamDefinition } from './schema.js';
import { definitionVersion } from './version.js';

/** A team read from a file: its definition, its version (the content hash) and the document as written. */
export interface LoadedTeam {
  team: TeamDefinition;
  version: string;
  document: Record<string, unknown>;
  file: string;
}

/** Team files are `*.yaml`, `*.yml` and `*.json`; `*.schema.json` (the editors' JSON Schema) is not a team. */
export function isTeamFile(name: string): boolean {
  return ['.yaml', '.yml', '.json'].includes(extname(name).toLowerCase()) && !name.endsWith('.schema.json');
}

/**
 * The `teams/` folder shipped with baton: found from this module's own location (src/teams/ when run from source,
 * dist/src/teams/ when built, /app/dist/... in the image), as the nearest ancestor holding package.json and teams/.
 */
export function defaultTeamsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'teams'))) return join(dir, 'teams');
    const parent = dirname(dir);
    if (parent === dir) return resolve('teams');
    dir = parent;
  }
}

/** How a file is named in messages: relative to the working directory when it is inside it. */
function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** The team files a path names: the file itself, or every team file in the folder, in name order. */
export function teamFilesAt(path: string): string[] {
  const stat = statSync(path);
  if (!stat.isDirectory()) return [path];
  return readdirSync(path)
    .filter(isTeamFile)
    .sort()
    .map((name) => join(path, name));
}

/** Reads and checks team files; a team name used by two files is a problem of the second. */
export function loadTeamFiles(
  path: string,
  env: ModelEnvironment | undefined,
): { teams: LoadedTeam[]; problems: TeamProblem[] } {
  const teams: LoadedTeam[] = [];
  const problems: TeamProblem[] = [];
  let files: string[];
  try {
    files = teamFilesAt(path);
  } catch (err) {
    return {
      teams,
      problems: [{ source: shown(path), path: '', message: `cannot be read (${(err as Error).message})` }],
    };
  }
  for (const file of files) {
    const source = shown(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ source, path: '', message: `cannot be read (${(err as Error).message})` });
      continue;
    }
    const parsed = parseTeamText(text, source, env);
    if (!parsed.ok) {
      problems.push(...parsed.problems);
      continue;
    }
    const first = teams.find((t) => t.team.name === parsed.team.name);
    if (first) {
      const message = `names team "${parsed.team.name}", which ${first.file} defines already`;
      problems.push({ source, path: 'name', message });
      continue;
    }
    teams.push({
      team: parsed.team,
      version: definitionVersion(parsed.team),
      document: parsed.document,
      file: source,
    });
  }
  return { teams, problems };
}

/** Start-up refuses bad team files: the message has one sentence per problem. */
export class TeamFilesError extends BatonError {
  constructor(readonly problems: TeamProblem[]) {
    super('TEAMS_INVALID', problems.map(problemSentence).join(' '), {
      problems: problems.map((p) => ({ ...p, sentence: problemSentence(p) })),
    });
  }
}

/** The teams of a folder (or one file), or `TeamFilesError` naming every problem. */
export function loadTeamsFrom(path: string, env: ModelEnvironment | undefined): LoadedTeam[] {
  const { teams, problems } = loadTeamFiles(path, env);
  if (problems.length > 0) throw new TeamFilesError(problems);
  return teams;
}

/** The teams of baton's own `teams/` folder by name (evals, benchmarks and tests run these). */
export function shippedTeams(): ReadonlyMap<string, TeamDefinition> {
  return new Map(loadTeamsFrom(defaultTeamsDir(), undefined).map((t) => [t.team.name, t.team]));
}
