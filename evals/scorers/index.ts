export {
  cohenKappa,
  type JudgeAgreement,
  judgeAgreement,
  pearson,
  quadraticWeightedKappa,
  ranks,
  spearman,
} from './agreement.js';
export { normalizeCompanyName } from './company-names.js';
export { type CompanyDirection, type DirectionAccuracy, directionAccuracy } from './direction.js';
export {
  deepEqual,
  exactMatch,
  type FieldAccuracy,
  type FieldResult,
  fieldAccuracy,
} from './field-accuracy.js';
export { citedArticles, type GroundingScore, groundingScore } from './grounding.js';
export {
  buildJudgePrompt,
  defaultRubric,
  type JudgeCriterion,
  type JudgeFn,
  type JudgeResult,
  type JudgeRubric,
  type JudgeVerdict,
  JudgeVerdictError,
  judgeCriteria,
  judgeScore,
  judgeVerdictSchema,
  normalizeVerdict,
  type ParsedVerdict,
  parseJudgeVerdict,
} from './judge.js';
export {
  type NewsDeskExpected,
  newsDeskQuality,
  newsDeskWeights,
  type QualityScore,
  supportDeskQuality,
  supportDeskWeights,
} from './quality.js';
export { lcsLength, type RougeL, rougeL, tokenize } from './rouge.js';
export {
  type Routing,
  type RoutingAccuracy,
  type RoutingScore,
  routingAccuracy,
  routingScore,
} from './routing.js';
export { type MatchedName, type SetF1, setF1 } from './set-f1.js';
