import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { RefusedError } from '../core/errors.js';
import { admissionProblems, operatorOnlyRules, toolRules } from './admission.js';
import { formatPath, parseTeamValue, problemSentence, type TeamProblem } from './document.js';
import type { LoadedTeam } from './files.js';
import type { ModelEnvironment } from './models.js';
import { withPolicyOverride } from './policy-overrides.js';
import type { StoredVersion, TeamRegistryStore, VersionSummary } from './registry-store.js';
import type { TeamResolver, VersionedTeam } from './resolver.js';
import type { TeamDefinition } from './schema.js';
import { definitionVersion, resolvedDocument } from './version.js';

/**
 * Where teams come from (BATON_TEAMS_REGISTRY):
 * - `files`: the team files only; the registry API refuses changes.
 * - `both` (default): team files and registered teams in one namespace; a name a file defines belongs to the
 *   file (the API refuses to change it), and a file shadows a registered team of the same name.
 * - `api`: the registry governs every team; each start-up registers the team files, making their versions
 *   current, so a version registered through the API shadows its file until the next start-up.
 */
export const registryModes = ['files', 'both', 'api'] as const;
export type RegistryMode = (typeof registryModes)[number];

export interface TeamCatalogDeps {
  files: readonly LoadedTeam[];
  /** The registry in Redis; without it (evals, tests) only the files exist and nothing is kept. */
  store?: TeamRegistryStore | undefined;
  mode: RegistryMode;
  /** Model checks of registered documents (absent: none). */
  env?: ModelEnvironment | undefined;
  /** Hosts the tools of registered teams may call (BATON_TOOL_HOSTS); absent: none. */
  toolHosts?: readonly string[] | undefined;
  /** The operator's policy overrides, applied to every team runs execute. */
  overrides?: Config['agentPolicy'] | undefined;
  log: Logger;
}

/** What `GET /v1/teams/{name}` shows. */
export interface TeamRecord {
  name: string;
  /** The version new runs take; null when the team is retired. */
  current: (VersionSummary & { document: Record<string, unknown> }) | null;
  retiredAt?: string;
  /** Every known version, oldest first. */
  versions: (VersionSummary & { current: boolean })[];
}

/** Stored versions parsed into teams, by `name@version`: immutable, so kept (the most recent few hundred). */
const PARSED_CACHE = 256;

/**
 * The teams of a process: the team files read at start-up and the registry in Redis, resolved by name (new runs)
 * or by name and version (runs in flight). It is the `TeamResolver` of the lifecycle and the engine and the
 * registry behind `PUT/GET/DELETE /v1/teams/{name}`. Every registry change is an audit log line.
 */
export class TeamCatalog implements TeamResolver {
  private readonly files: ReadonlyMap<string, LoadedTeam>;
  private readonly parsed = new Map<string, TeamDefinition>();
  private readonly started: Promise<void>;

  constructor(private readonly deps: TeamCatalogDeps) {
    this.files = new Map(deps.files.map((f) => [f.team.name, f]));
    this.started = this.archiveFiles();
    // Surfaced by ready() and by every call that needs the registry.
    this.started.catch(() => {});
  }

  /** Resolves once the team files' versions are in the registry (rejects when Redis refused them). */
  ready(): Promise<void> {
    return this.started;
  }

  private runnable(team: TeamDefinition): TeamDefinition {
    return this.deps.overrides ? withPolicyOverride(team, this.deps.overrides) : team;
  }

  private fileOwns(name: string): LoadedTeam | undefined {
    return this.deps.mode === 'api' ? undefined : this.files.get(name);
  }

  async current(name: string): Promise<VersionedTeam | undefined> {
    const file = this.fileOwns(name);
    if (file) return { version: file.version, team: this.runnable(file.team) };
    const { store } = this.deps;
    if (!store) return this.deps.mode === 'api' && this.files.has(name) ? this.fromFile(name) : undefined;
    if (this.deps.mode === 'files') return undefined;
    await this.started;
    const head = await store.head(name);
    if (!head?.current) return undefined;
    const team = await this.stored(name, head.current);
    return team ? { version: head.current, team: this.runnable(team) } : undefined;
  }

  private fromFile(name: string): VersionedTeam | undefined {
    const file = this.files.get(name);
    return file ? { version: file.version, team: this.runnable(file.team) } : undefined;
  }

  async version(name: string, version: string): Promise<TeamDefinition | undefined> {
    const file = this.files.get(name);
    if (file?.version === version) return this.runnable(file.team);
    if (!this.deps.store) return undefined;
    await this.started;
    const team = await this.stored(name, version);
    return team ? this.runnable(team) : undefined;
  }

  async list(): Promise<VersionedTeam[]> {
    const names = new Set(this.deps.mode === 'api' && this.deps.store ? [] : this.files.keys());
    if (this.deps.store && this.deps.mode !== 'files') {
      await this.started;
      for (const name of await this.deps.store.names()) names.add(name);
    }
    const teams = await Promise.all([...names].sort().map((name) => this.current(name)));
    return teams.filter((t): t is VersionedTeam => t !== undefined);
  }

  /** A stored version as a team (parsed from its resolved document once, then cached). */
  private async stored(name: string, version: string): Promise<TeamDefinition | undefined> {
    const key = `${name}@${version}`;
    const cached = this.parsed.get(key);
    if (cached) return cached;
    const entry = await this.deps.store?.get(name, version);
    if (!entry) return undefined;
    const parsed = parseTeamValue(entry.resolved, key, undefined);
    if (!parsed.ok) {
      // A version stored by an older baton that this one reads differently: unusable, and said so.
      this.deps.log.error(
        { team: name, version, problems: parsed.problems.map(problemSentence) },
        'stored team version is unreadable',
      );
      return undefined;
    }
    if (this.parsed.size >= PARSED_CACHE) this.parsed.delete(this.parsed.keys().next().value as string);
    this.parsed.set(key, parsed.team);
    return parsed.team;
  }

  private audit(action: string, team: string, version: string | undefined, by: string): void {
    this.deps.log.info(
      { audit: { action, team, version, by } },
      `team registry: ${action} ${team}${version ? ` ${version}` : ''}`,
    );
  }

  /** Every file team's version goes into the registry, so a run pinned to it resolves after the file changes. */
  private async archiveFiles(): Promise<void> {
    const { store, mode } = this.deps;
    if (!store) return;
    for (const file of this.files.values()) {
      const by = `file ${file.file}`;
      const created = await store.add(file.team.name, this.entry(file.team, file.document, 'file', by));
      const head = await store.head(file.team.name);
      if (mode === 'api' && head?.current !== file.version) {
        await store.setCurrent(file.team.name, file.version, by);
        this.audit('registered', file.team.name, file.version, by);
      } else if (created) this.audit('archived', file.team.name, file.version, by);
      if (mode === 'both' && head?.current && head.updatedBy?.startsWith('file ') === false) {
        this.deps.log.warn(
          { team: file.team.name, file: file.file },
          'a team file shadows the registered team of the same name',
        );
      }
    }
  }

  private entry(
    team: TeamDefinition,
    document: Record<string, unknown>,
    source: StoredVersion['source'],
    by: string,
  ): StoredVersion {
    return {
      version: definitionVersion(team),
      document,
      resolved: resolvedDocument(team),
      source,
      registeredAt: new Date().toISOString(),
      registeredBy: by,
    };
  }

  private writable(name: string): TeamRegistryStore {
    const { store, mode } = this.deps;
    if (!store || mode === 'files') {
      throw new RefusedError(
        'conflict',
        'TEAMS_REGISTRY_DISABLED',
        'Teams come from files only here (BATON_TEAMS_REGISTRY=files).',
      );
    }
    if (mode === 'both' && this.files.has(name)) {
      throw new RefusedError(
        'conflict',
        'TEAM_DEFINED_BY_FILE',
        `Team "${name}" is defined by ${this.files.get(name)?.file}; change the file (or set BATON_TEAMS_REGISTRY=api).`,
      );
    }
    return store;
  }

  /**
   * Registers a document as the current version of `name`. A document whose version is stored already creates
   * nothing: when it is current the call changes nothing; otherwise that version becomes current again.
   */
  async register(
    name: string,
    body: Record<string, unknown>,
    by: string,
  ): Promise<{ version: string; created: boolean; changed: boolean; previous?: string }> {
    const source = `PUT /v1/teams/${name}`;
    const document = { ...body, name: body.name ?? name };
    if (document.name !== name) {
      throw invalid([
        { source, path: 'name', message: `is "${String(document.name)}", not "${name}" as in the URL` },
      ]);
    }
    const parsed = parseTeamValue(document, source, this.deps.env);
    if (!parsed.ok) throw invalid(parsed.problems);
    const rules = [...operatorOnlyRules, ...toolRules(this.deps.toolHosts ?? [])];
    const refused = admissionProblems(parsed.team, rules).map((p) => ({
      source,
      path: formatPath(p.path),
      message: p.message,
    }));
    if (refused.length > 0) throw invalid(refused);
    const store = this.writable(name);
    await this.started;
    const entry = this.entry(parsed.team, parsed.document, 'api', by);
    const created = await store.add(name, entry);
    const previous = (await store.head(name))?.current;
    if (previous === entry.version) return { version: entry.version, created, changed: false, previous };
    await store.setCurrent(name, entry.version, by);
    this.audit(created ? 'registered' : 'restored', name, entry.version, by);
    return { version: entry.version, created, changed: true, ...(previous ? { previous } : {}) };
  }

  /** Retires a team for new runs; runs in flight finish on their version. */
  async retire(name: string, by: string): Promise<{ version: string }> {
    const store = this.writable(name);
    await this.started;
    const head = await store.head(name);
    if (!head?.current) throw new RefusedError('not-found', 'NOT_FOUND', `Team "${name}" was not found.`);
    await store.retire(name, by);
    this.audit('retired', name, head.current, by);
    return { version: head.current };
  }

  /** The current version with its document, and every version; undefined for a team never known. */
  async describe(name: string): Promise<TeamRecord | undefined> {
    const current = await this.current(name);
    const { store } = this.deps;
    if (store) await this.started;
    const history = store ? await store.history(name) : [];
    const entry = current ? await this.describeVersion(name, current.version) : undefined;
    if (!entry && history.length === 0) return undefined;
    const shown = entry ? withoutResolved(entry) : undefined;
    const retiredAt = current ? undefined : (await store?.head(name))?.retiredAt;
    // Without a registry, the file's version is the only one.
    const versions = history.length > 0 || !shown ? history : [shown];
    return {
      name,
      current: shown ?? null,
      ...(retiredAt ? { retiredAt } : {}),
      versions: versions.map(({ version, source, registeredAt, registeredBy }) => ({
        version,
        source,
        registeredAt,
        registeredBy,
        current: version === current?.version,
      })),
    };
  }

  /** One version with its documents: from the registry, or the file this process read. */
  async describeVersion(
    name: string,
    version: string,
  ): Promise<(StoredVersion & { current: boolean }) | undefined> {
    const current = (await this.current(name))?.version;
    const file = this.files.get(name);
    if (this.deps.store) await this.started;
    let entry = await this.deps.store?.get(name, version);
    if (!entry && file?.version === version)
      entry = this.entry(file.team, file.document, 'file', `file ${file.file}`);
    return entry ? { ...entry, current: entry.version === current } : undefined;
  }
}

function withoutResolved(entry: StoredVersion): VersionSummary & { document: Record<string, unknown> } {
  const { version, source, registeredAt, registeredBy, document } = entry;
  return { version, source, registeredAt, registeredBy, document };
}

function invalid(problems: TeamProblem[]): RefusedError {
  return new RefusedError('invalid', 'TEAM_INVALID', problems.map(problemSentence).join(' '), {
    problems: problems.map((p) => ({ path: p.path, message: p.message, sentence: problemSentence(p) })),
  });
}
