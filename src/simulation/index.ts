import type { Config } from '../config/index.js';
import { PermanentModelError } from '../core/errors.js';
import type { ChatModel } from '../core/model.js';
import {
  createSimulatedModel,
  type SimulatedModelOptions,
  type SimulatedPlayer,
} from '../models/simulated.js';
import { parsePrompt } from '../orchestrators/prompt.js';
import { genericSkill } from './generic-player.js';
import type { Skill, SkillOutput } from './skill.js';
import { defaultSkills } from './skills.js';
import { quotedResults, toolCallsFor, withQuotes } from './tool-use.js';

/**
 * How the simulated model plays agents: an agent definition may name a skill (`simulation.skill`, the demo teams'
 * richer behaviours) that reads the prompt in the orchestrators' layout and answers deterministically; any other
 * agent is played by the generic player (./generic-player.ts), which plays a team it has never seen from the
 * request alone — its schema, its transfer tools, its task.
 */
export function skillPlayer(skills: Record<string, Skill> = defaultSkills): SimulatedPlayer {
  return (request, random) => {
    const prompt = parsePrompt(request.messages);
    const calls = toolCallsFor(request, prompt.task);
    if (calls) return { text: '', toolCalls: calls };
    const play = (): SkillOutput => {
      if (!request.simulation) return genericSkill({ request, prompt, random });
      const skill = skills[request.simulation.skill];
      if (!skill)
        throw new PermanentModelError(`The simulated model has no skill "${request.simulation.skill}".`);
      return skill({ request, prompt, random });
    };
    const out = play();
    const quotes = quotedResults(request);
    return quotes && !out.toolCalls?.length ? withQuotes(out, quotes, request.responseFormat?.schema) : out;
  };
}

export interface SimulatedTeamsModelOptions extends Omit<SimulatedModelOptions, 'player'> {
  /** Skills to add to (or replace in) the default set (tests pin behaviours with these). */
  skills?: Record<string, Skill>;
}

/** The simulated model playing baton's teams: what the service, evals, benchmarks and tests run offline. */
export function simulatedModel(
  settings: Config['models']['simulated'],
  options: SimulatedTeamsModelOptions = {},
): ChatModel {
  const { skills, ...rest } = options;
  return createSimulatedModel(settings, { ...rest, player: skillPlayer({ ...defaultSkills, ...skills }) });
}
