import type { TeamDefinition } from '../schema.js';
import { newsDesk } from './news-desk.js';

/** The demo teams shipped with baton, by name. */
export const catalog: ReadonlyMap<string, TeamDefinition> = new Map([[newsDesk.name, newsDesk]]);
