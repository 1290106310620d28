import {
  type Direction,
  directionFor,
  extractCompanies,
  isBusiness,
  parseArticle,
  summarize,
} from './news-heuristics.js';
import { priorJson, priorJsonAll, type Skill } from './skill.js';

/** Skills for the `news-desk` team: each really reads the article (and earlier agents' work when it has it). */

const summarizeSkill: Skill = ({ prompt }) => {
  const article = parseArticle(prompt.task);
  return { json: { title: article.title, summary: summarize(article) } };
};

const classifySkill: Skill = ({ prompt }) => {
  const business = isBusiness(prompt.task);
  return {
    json: {
      isBusiness: business,
      reason: business
        ? 'The article discusses companies, markets or financial results.'
        : 'The article is not about companies or markets.',
    },
  };
};

const extractSkill: Skill = ({ prompt }) => ({ json: { companies: extractCompanies(prompt.task) } });

function companiesFrom(value: Record<string, unknown> | undefined): string[] | undefined {
  const list = value?.companies;
  if (!Array.isArray(list)) return undefined;
  return list
    .map((c) =>
      typeof c === 'string' ? c : c && typeof c === 'object' ? (c as { name?: unknown }).name : undefined,
    )
    .filter((n): n is string => typeof n === 'string');
}

/** A map's worker is asked about one item: `Work on this item only: <item>`. */
const ONE_ITEM = /^Work on this item only: (.+)$/;

const analyzeSkill: Skill = ({ prompt }) => {
  const item = ONE_ITEM.exec(prompt.instruction?.trim() ?? '')?.[1];
  const names = item
    ? [item]
    : (companiesFrom(priorJson(prompt, 'extractor')) ?? extractCompanies(prompt.task));
  return { json: { companies: names.map((name) => ({ name, ...directionFor(prompt.task, name) })) } };
};

const editSkill: Skill = ({ prompt }) => {
  const article = parseArticle(prompt.task);
  const summary = priorJson(prompt, 'summarizer');
  const classification = priorJson(prompt, 'classifier');
  // One analysis, or one per company from a map's per-item runs.
  const analyses = priorJsonAll(prompt, 'analyst').filter((a) => Array.isArray(a.companies));
  const analysis = analyses.length
    ? { companies: analyses.flatMap((a) => a.companies as unknown[]) }
    : undefined;
  const business =
    typeof classification?.isBusiness === 'boolean' ? classification.isBusiness : isBusiness(prompt.task);
  const analysed = Array.isArray(analysis?.companies)
    ? (analysis.companies as { name: string; direction: Direction; reason: string }[])
    : (companiesFrom(priorJson(prompt, 'extractor')) ?? extractCompanies(prompt.task)).map((name) => ({
        name,
        ...directionFor(prompt.task, name),
      }));
  return {
    json: {
      title: typeof summary?.title === 'string' ? summary.title : article.title,
      summary: typeof summary?.summary === 'string' ? summary.summary : summarize(article),
      isBusiness: business,
      companies: business ? analysed : [],
    },
  };
};

export const newsSkills: Record<string, Skill> = {
  'news.summarize': summarizeSkill,
  'news.classify': classifySkill,
  'news.extract': extractSkill,
  'news.analyze': analyzeSkill,
  'news.edit': editSkill,
};
