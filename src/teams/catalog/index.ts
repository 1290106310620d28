import type { TeamDefinition } from '../schema.js';
import { newsDesk } from './news-desk.js';
import { supportDesk } from './support-desk.js';

export { describeTeam, type TeamDescription } from '../describe.js';

/** The demo teams shipped with baton, by name. */
export const catalog: ReadonlyMap<string, TeamDefinition> = new Map([
  [newsDesk.name, newsDesk],
  [supportDesk.name, supportDesk],
]);
