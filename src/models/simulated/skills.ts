import { newsSkills } from './news-skills.js';
import type { Skill } from './skill.js';

/** Every skill the simulated model knows, by the name agent definitions use in `simulation.skill`. */
export const defaultSkills: Record<string, Skill> = {
  ...newsSkills,
};
