/**
 * baton's architecture rules, checked by `npm run lint` (dependency-cruiser). The layers, bottom to top: a module
 * imports only from its own layer and the layers below it, and no import closes a cycle. docs/architecture.md
 * explains each layer.
 */
const layers = [
  ['core'],
  ['telemetry', 'config'],
  ['models'],
  ['policies'],
  ['tools', 'guardrails'],
  ['agents'],
  ['orchestrators'],
  ['teams', 'simulation'],
  ['runs'],
  ['engine'],
  ['queue'],
  ['lifecycle'],
  ['worker'],
  ['api'],
];

const _folder = (name) => `^src/${name}/`;
const above = (index) => layers.slice(index + 1).flat();

/** One rule per layer: nothing in it imports a folder of a higher layer or the composition root (src/*.ts). */
const layerRules = layers.map((names, index) => ({
  name: `layer-${names.join('-')}`,
  comment: `${names.join(' and ')} may import only ${layers
    .slice(0, index + 1)
    .flat()
    .join(', ')}.`,
  severity: 'error',
  from: { path: `^src/(${names.join('|')})/` },
  to: {
    path: [...(above(index).length ? [`^src/(${above(index).join('|')})/`] : []), '^src/[^/]+\\.ts$'],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'An import cycle ties layers (or modules of one layer) into a knot.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-evals',
      comment: 'src/ imports evals/ only from the composition root (src/*.ts).',
      severity: 'error',
      from: { path: '^src/.+/' },
      to: { path: '^evals/' },
    },
    {
      name: 'no-test-code-in-product',
      severity: 'error',
      from: { path: '^(src|evals|bench)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^test/' },
    },
    {
      name: 'telemetry-sdk-only-in-telemetry',
      comment:
        'Only src/telemetry/ touches the OpenTelemetry SDK and the Azure Monitor distro; the rest uses the API.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/telemetry/' },
      to: {
        path: 'node_modules/(@opentelemetry/(sdk-|exporter-|instrumentation)|@azure/monitor-opentelemetry)',
      },
    },
    {
      name: 'orchestrators-do-no-io',
      comment:
        'Patterns are plain async code over the run context: Redis, HTTP, queues and files come through ctx.',
      severity: 'error',
      from: { path: '^src/orchestrators/' },
      to: {
        path: [
          'node_modules/(ioredis|bullmq|fastify|openai|@azure)/',
          '^(node:)?(fs|http|https|net|child_process)$',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
