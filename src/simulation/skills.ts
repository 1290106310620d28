import { handoffSkills } from './handoff-skills.js';
import { judgeSkills } from './judge-skills.js';
import { managerSkills } from './manager-skills.js';
import { newsSkills } from './news-skills.js';
import type { Skill } from './skill.js';
import { supportSkills } from './support-skills.js';

/** Every skill the simulated model knows, by the name agent definitions use in `simulation.skill`. */
export const defaultSkills: Record<string, Skill> = {
  ...newsSkills,
  ...handoffSkills,
  ...managerSkills,
  ...supportSkills,
  ...judgeSkills,
};
