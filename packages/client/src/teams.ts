import type { Transport } from './transport.js';
import type {
  Team,
  TeamDocument,
  TeamList,
  TeamRecord,
  TeamRegistration,
  TeamRetirement,
  TeamVersion,
} from './types.js';

export interface TeamCallOptions {
  signal?: AbortSignal;
}

const teamPath = (name: string, rest = '') => `/v1/teams/${encodeURIComponent(name)}${rest}`;

/** The teams runs can use, and the registry of their versions (registering and retiring need the admin role). */
export class Teams {
  constructor(private readonly transport: Transport) {}

  /** Every team with its agents, the patterns it is wired for, its current version and its variants. */
  async list(options: TeamCallOptions = {}): Promise<Team[]> {
    const page = await this.transport.json<TeamList>({
      method: 'GET',
      path: '/v1/teams',
      signal: options.signal,
      resendAfterNetworkError: true,
    });
    return page.items;
  }

  /** A team's current version with its document, and every earlier version. */
  get(name: string, options: TeamCallOptions = {}): Promise<TeamRecord> {
    return this.transport.json<TeamRecord>({
      method: 'GET',
      path: teamPath(name),
      signal: options.signal,
      resendAfterNetworkError: true,
    });
  }

  /** One version of a team with its document, current or not. */
  version(name: string, version: string, options: TeamCallOptions = {}): Promise<TeamVersion> {
    return this.transport.json<TeamVersion>({
      method: 'GET',
      path: teamPath(name, `/versions/${encodeURIComponent(version)}`),
      signal: options.signal,
      resendAfterNetworkError: true,
    });
  }

  /**
   * Registers a document as the team's new current version. Registering is idempotent (the same document is the
   * same version), so a request lost on the network is sent again.
   */
  register(name: string, document: TeamDocument, options: TeamCallOptions = {}): Promise<TeamRegistration> {
    return this.transport.json<TeamRegistration>({
      method: 'PUT',
      path: teamPath(name),
      body: document,
      signal: options.signal,
      resendAfterNetworkError: true,
    });
  }

  /** New runs can no longer use the team; runs in flight finish on their version. */
  retire(name: string, options: TeamCallOptions = {}): Promise<TeamRetirement> {
    return this.transport.json<TeamRetirement>({
      method: 'DELETE',
      path: teamPath(name),
      signal: options.signal,
      resendAfterNetworkError: false,
    });
  }
}
