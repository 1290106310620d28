import type { Transport } from './transport.js';
import type { Team, TeamList } from './types.js';

/** The teams runs can use, with their agents and the patterns each is wired for. */
export class Teams {
  constructor(private readonly transport: Transport) {}

  async list(options: { signal?: AbortSignal } = {}): Promise<Team[]> {
    const page = await this.transport.json<TeamList>({
      method: 'GET',
      path: '/v1/teams',
      signal: options.signal,
      resendAfterNetworkError: true,
    });
    return page.items;
  }
}
