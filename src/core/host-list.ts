/**
 * An allow-list of network hosts, as operators write them (BATON_WEBHOOK_HOSTS): comma-separated `host` or
 * `host:port` entries; `*.example.com` allows every subdomain of example.com (not example.com itself); an IPv6
 * address goes in brackets (`[::1]`, `[::1]:8080`). An entry without a port allows any port.
 */
export interface HostList {
  readonly entries: readonly string[];
  /** Whether `url` (http or https) points at an allowed host and port. */
  allows(url: URL): boolean;
}

interface HostEntry {
  host: string;
  wildcard: boolean;
  port: string | undefined;
}

function parseEntry(raw: string): HostEntry {
  const text = raw.trim().toLowerCase();
  const bracketed = /^(\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] as string, wildcard: false, port: bracketed[2] };
  const plain =
    /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/.exec(text);
  if (!plain) throw new Error(`"${raw.trim()}" is not a host, host:port or *.domain entry`);
  return { host: plain[2] as string, wildcard: plain[1] !== undefined, port: plain[6] };
}

/** Parses an allow-list; throws with the first bad entry. */
export function parseHostList(text: string): HostList {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const parsed = entries.map(parseEntry);
  return {
    entries,
    allows(url) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
      const host = url.hostname.toLowerCase();
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      return parsed.some(
        (e) =>
          (e.port === undefined || e.port === port) &&
          (e.wildcard ? host.endsWith(`.${e.host}`) : host === e.host),
      );
    },
  };
}

/** What `baton dev` allows without configuration: the machine itself. */
export const LOOPBACK_HOSTS = 'localhost,127.0.0.1,[::1]';
