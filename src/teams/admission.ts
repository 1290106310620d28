import type { TeamDefinition } from './schema.js';

/** A rule a team registered through the API must pass, beyond the checks every team document passes. */
export interface AdmissionRule {
  name: string;
  /** Problems as paths inside the document and sentences; none when the team passes. */
  check(team: TeamDefinition): { path: (string | number)[]; message: string }[];
}

/**
 * What only an operator may configure. Team files are deployed by operators; documents registered through the
 * API come from admins of the service, who may not use what the operator keeps for itself. Every such rule lives
 * in this list (and `toolRules`), so the registry checks one place.
 */
export const operatorOnlyRules: readonly AdmissionRule[] = [];

/** Whether a URL's host is one of the allowed `host`, `host:port` or `*.domain` entries (BATON_TOOL_HOSTS). */
export function hostAllowed(url: string, hosts: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const hostname = parsed.hostname.toLowerCase();
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return hosts.some((entry) => {
    const [host = '', entryPort] = entry.toLowerCase().split(':');
    if (entryPort !== undefined && entryPort !== port) return false;
    return host.startsWith('*.') ? hostname.endsWith(host.slice(1)) : hostname === host;
  });
}

/**
 * Tools of teams registered through the API: no stdio MCP servers (a command is the operator's configuration,
 * not a client's data) and only hosts the operator allows (BATON_TOOL_HOSTS; none when unset).
 */
export function toolRules(hosts: readonly string[]): AdmissionRule[] {
  return [
    {
      name: 'tools',
      check(team) {
        return (team.tools ?? []).flatMap((tool, i) => {
          if (tool.kind === 'mcp' && tool.command) {
            return [
              {
                path: ['tools', i, 'command'],
                message: 'starts a command; only the operator’s team files may declare stdio MCP servers',
              },
            ];
          }
          if (tool.kind === 'human') return [];
          const url = tool.kind === 'search' ? tool.azure?.endpoint : tool.url;
          if (url === undefined || hostAllowed(url, hosts)) return [];
          const field = tool.kind === 'search' ? ['azure', 'endpoint'] : ['url'];
          return [
            {
              path: ['tools', i, ...field],
              message: `calls ${new URL(url).host}, which BATON_TOOL_HOSTS does not allow for teams registered through the API`,
            },
          ];
        });
      },
    },
  ];
}

export function admissionProblems(
  team: TeamDefinition,
  rules: readonly AdmissionRule[] = operatorOnlyRules,
): { path: (string | number)[]; message: string }[] {
  return rules.flatMap((rule) => rule.check(team));
}
