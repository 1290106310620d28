import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentPolicySchema } from '../../src/agents/schema.js';
import { LIVENESS_PATH, READINESS_PATH } from '../../src/api/probes.js';
import { isKnownEnvVar, loadConfig } from '../../src/config/index.js';
import { modelProviders } from '../../src/core/model.js';
import { RUNS_QUEUE, runsActiveListKey, runsWaitListKey } from '../../src/queue/names.js';
import {
  ATTR_BATON_QUEUE,
  ATTR_BATON_RUN_STATUS,
  ATTR_BATON_VARIANT,
  ATTR_GEN_AI_AGENT_NAME,
} from '../../src/telemetry/attributes.js';
import { METRIC_NAMES } from '../../src/telemetry/metrics.js';
import { type Block, block, blocks, isExpression, loadTerraform, resolve, type Terraform } from './hcl.js';

const dir = join(import.meta.dirname, '..', '..', 'infra', 'terraform');
let tf: Terraform;

beforeAll(async () => {
  tf = await loadTerraform(dir);
});

/** The one resource of a type (e.g. the registry), as `[name, body]`. */
function single(type: string): [string, Block] {
  const entries = Object.entries(tf.resources[type] ?? {});
  expect(entries, `exactly one ${type}`).toHaveLength(1);
  return entries[0]!;
}

/** One named resource of a type (where a type has several, e.g. the OpenAI and the Foundry account). */
function named(type: string, name: string): Block {
  const body = tf.resources[type]?.[name];
  expect(body, `${type}.${name}`).toBeDefined();
  return body!;
}

/** A Terraform expression as hcl2json writes it: `hcl('var.x')` is the string `${var.x}`. */
const hcl = (expression: string) => `\${${expression}}`;
const ref = (type: string, attr: string) => `\${${type}.${single(type)[0]}.${attr}}`;
const openaiAccount = (attr: string) => hcl(`azurerm_cognitive_account.openai.${attr}`);
const identityId = () => ref('azurerm_user_assigned_identity', 'id');

function app(name: 'api' | 'worker'): Block {
  const a = tf.resources.azurerm_container_app?.[name];
  expect(a, `azurerm_container_app.${name}`).toBeDefined();
  return a!;
}

function container(name: 'api' | 'worker'): Block {
  const containers = blocks(block(app(name), 'template')!, 'container');
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

function env(name: 'api' | 'worker'): Block[] {
  return blocks(container(name), 'env');
}

/** `dynamic "env"` blocks: their `for_each` and their content. */
function dynamicEnv(name: 'api' | 'worker'): { for_each: unknown; content: Block }[] {
  // hcl2json writes `dynamic` as an object keyed by block name (or a list of such objects).
  const raw = container(name).dynamic;
  const dynamic = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as Block[];
  return dynamic
    .flatMap((d) => blocks(d, 'env'))
    .map((d) => ({ for_each: d.for_each, content: block(d, 'content')! }));
}

function envVar(name: 'api' | 'worker', variable: string): Block | undefined {
  return env(name).find((e) => e.name === variable);
}

function variableDefault(name: string): unknown {
  const v = tf.variables[name];
  expect(v, `variable ${name}`).toBeDefined();
  return v!.default;
}

/** Names of env vars that carry credentials and so must come from a secret. */
const SECRET_ENV = /KEY|SECRET|PASSWORD|TOKEN|CONNECTION_STRING|^REDIS_URL$/;

/** Strings that look like a credential written out literally. */
const LITERAL_SECRET = [
  /rediss?:\/\/[^$\s"]*:[^$\s"@]+@/, // password in a Redis URL
  /InstrumentationKey=[0-9a-f-]{8,}/i,
  /AccountKey=[A-Za-z0-9+/=]{8,}/,
  /\bsk-[A-Za-z0-9]{20,}/,
  /(?<![A-Za-z0-9+/_.-])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])/, // long base64
  /\b[0-9a-f]{32,}\b/i, // long hex
];

describe('terraform: providers and variables', () => {
  it('pins Terraform and the azurerm provider to 4.x', () => {
    const settings = tf.settings.find((s) => 'required_providers' in s);
    expect(settings?.required_version).toMatch(/>=\s*1\.\d+/);
    const providers = blocks(settings!, 'required_providers')[0] as Record<
      string,
      { source: string; version: string }
    >;
    expect(providers.azurerm?.source).toBe('hashicorp/azurerm');
    const lower = /(?:>=|~>)\s*(\d+)\./.exec(providers.azurerm?.version ?? '');
    expect(Number(lower?.[1])).toBeGreaterThanOrEqual(4);
    expect(providers.azurerm?.version).toMatch(/<\s*5\.0/);
    // azurerm_cognitive_account_project arrived in 4.55.
    const minor = /(?:>=|~>)\s*4\.(\d+)/.exec(providers.azurerm?.version ?? '');
    expect(Number(minor?.[1])).toBeGreaterThanOrEqual(55);
  });

  it('describes every variable and validates the bounded ones', () => {
    for (const [name, v] of Object.entries(tf.variables)) {
      expect(typeof v.description === 'string' && v.description.length > 10, `${name} description`).toBe(
        true,
      );
    }
    const validated = [
      'name_prefix',
      'environment',
      'image_tag',
      'api_min_replicas',
      'api_max_replicas',
      'worker_min_replicas',
      'worker_max_replicas',
      'worker_concurrency',
      'worker_scale_list_length',
      'worker_scale_busy_fraction',
      'max_agent_timeout_seconds',
      'worker_termination_grace_period_seconds',
      'redis_prefix',
      'redis_sku_name',
      'openai_deployments',
      'default_openai_deployment',
      'alert_email',
    ];
    for (const name of validated) {
      expect(blocks(tf.variables[name] ?? {}, 'validation').length, `${name} validation`).toBeGreaterThan(0);
    }
  });

  it('uses the same BullMQ prefix default as baton', () => {
    expect(variableDefault('redis_prefix')).toBe(loadConfig({}).redisPrefix);
  });

  it('documents every output', () => {
    expect(Object.keys(tf.outputs)).toEqual(
      expect.arrayContaining(['api_fqdn', 'acr_login_server', 'key_vault_name']),
    );
    for (const [name, o] of Object.entries(tf.outputs)) {
      expect(typeof o.description === 'string' && o.description.length > 0, `${name} description`).toBe(true);
    }
  });
});

describe('terraform: container apps', () => {
  it('run the image from the registry, pulled with the user-assigned identity', () => {
    const [, registry] = single('azurerm_container_registry');
    expect(registry.admin_enabled).toBe(false);
    const loginServer = ref('azurerm_container_registry', 'login_server');
    for (const name of ['api', 'worker'] as const) {
      const image = resolve(tf, container(name).image);
      expect(image, `${name} image`).toMatch(
        new RegExp(`^${escapeRegExp(loginServer)}/[a-z0-9./-]+:\\$\\{var\\.image_tag\\}$`),
      );
      const reg = blocks(app(name), 'registry');
      expect(reg).toEqual([{ server: loginServer, identity: identityId() }]);
      const identity = block(app(name), 'identity');
      expect(identity?.type).toBe('UserAssigned');
      expect(identity?.identity_ids).toEqual([identityId()]);
    }
  });

  it('expose the api over HTTPS only, on the port it listens on', () => {
    const ingress = block(app('api'), 'ingress');
    expect(ingress?.external_enabled).toBe(true);
    expect(ingress?.allow_insecure_connections).toBe(false);
    expect(ingress?.target_port).toBe(3000);
    expect(resolve(tf, envVar('api', 'PORT')?.value)).toBe(String(ingress?.target_port));
    expect(container('api').args).toEqual(['api']);
  });

  it('probe the api on the liveness and readiness paths it serves', () => {
    const c = container('api');
    const liveness = block(c, 'liveness_probe');
    const readiness = block(c, 'readiness_probe');
    expect(liveness?.path).toBe(LIVENESS_PATH);
    expect(readiness?.path).toBe(READINESS_PATH);
    const startup = block(c, 'startup_probe');
    if (startup) expect(startup.path).toBe(LIVENESS_PATH);
    for (const probe of [liveness, readiness, startup].filter(Boolean)) {
      expect(String(probe?.transport).toUpperCase()).toBe('HTTP');
      expect(probe?.port).toBe(block(app('api'), 'ingress')?.target_port);
    }
  });

  it('run workers without ingress, scaled by KEDA on the BullMQ wait list of the runs queue', () => {
    const worker = app('worker');
    expect(worker.ingress).toBeUndefined();
    expect(container('worker').args).toEqual(['worker']);
    const template = block(worker, 'template')!;
    const rules = blocks(template, 'custom_scale_rule');
    expect(rules.map((r) => r.name)).toEqual(['runs-backlog', 'runs-in-flight']);
    const rule = rules[0]!;
    expect(resolve(tf, rule.custom_rule_type)).toBe('redis');
    const metadata = resolve(tf, rule.metadata) as Record<string, string>;
    // The prefix the worker runs with is the one the rule watches.
    const prefix = resolve(tf, envVar('worker', 'BATON_REDIS_PREFIX')?.value) as string;
    expect(prefix).toBe('baton');
    expect(metadata.listName).toBe(runsWaitListKey(prefix));
    expect(metadata.listName).toBe(runsWaitListKey(loadConfig({}).redisPrefix));
    expect(metadata.enableTLS).toBe('true');
    expect(metadata.address).toBe(
      `${ref('azurerm_redis_cache', 'hostname')}:${ref('azurerm_redis_cache', 'ssl_port')}`,
    );
    expect(Number(metadata.listLength)).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(Number(metadata.listLength))).toBe(true);

    // The second rule keeps the replicas the runs in flight need: active runs per replica below the concurrency.
    const inFlight = rules[1]!;
    const inFlightMetadata = resolve(tf, inFlight.metadata) as Record<string, string>;
    expect(resolve(tf, inFlight.custom_rule_type)).toBe('redis');
    expect(inFlightMetadata.listName).toBe(runsActiveListKey(prefix));
    expect(inFlightMetadata.address).toBe(metadata.address);
    expect(inFlightMetadata.enableTLS).toBe('true');
    expect((inFlight.metadata as Record<string, unknown>).listLength).toBe(
      hcl('tostring(max(1, floor(var.worker_concurrency * var.worker_scale_busy_fraction)))'),
    );
    expect(blocks(inFlight, 'authentication')[0]?.secret_name).toBe(
      blocks(rule, 'authentication')[0]?.secret_name,
    );

    const auth = blocks(rule, 'authentication');
    expect(auth).toHaveLength(1);
    expect(auth[0]?.trigger_parameter).toBe('password');
    const secret = blocks(worker, 'secret').find((s) => s.name === auth[0]?.secret_name);
    expect(secret, 'scale rule secret declared on the worker').toBeDefined();
    const kvName = /^\$\{azurerm_key_vault_secret\.(\w+)\.versionless_id\}$/.exec(
      String(secret?.key_vault_secret_id),
    )?.[1];
    const kvSecret = tf.resources.azurerm_key_vault_secret?.[kvName ?? ''];
    expect(kvSecret?.value).toBe(ref('azurerm_redis_cache', 'primary_access_key'));

    expect(resolve(tf, template.min_replicas)).toBeGreaterThanOrEqual(1);
    expect(resolve(tf, template.max_replicas)).toBeGreaterThanOrEqual(
      resolve(tf, template.min_replicas) as number,
    );
  });

  it('offer a clustered cache behind a variable: baton in its cluster mode, KEDA on the tagged keys', () => {
    const clustered: Terraform = {
      ...tf,
      variables: {
        ...tf.variables,
        redis_cluster_shards: { ...tf.variables.redis_cluster_shards, default: 3 },
        redis_sku_name: { ...tf.variables.redis_sku_name, default: 'Premium' },
      },
    };
    const [, cache] = single('azurerm_redis_cache');
    expect(resolve(tf, cache.shard_count)).toBeNull();
    expect(resolve(clustered, cache.shard_count)).toBe(3);
    const preconditions = blocks(block(cache, 'lifecycle')!, 'precondition');
    expect(preconditions.map((p) => p.condition)).toContain(
      hcl('var.redis_cluster_shards == 0 || var.redis_sku_name == "Premium"'),
    );
    const env = (t: Terraform, role: 'api' | 'worker', name: string) =>
      resolve(t, blocks(container(role), 'env').find((e) => e.name === name)?.value);
    const config = loadConfig({
      BATON_REDIS_CLUSTER: String(env(clustered, 'worker', 'BATON_REDIS_CLUSTER')),
      BATON_REDIS_PREFIX: String(env(clustered, 'worker', 'BATON_REDIS_PREFIX')),
    });
    expect(config.redisCluster).toBe(true);
    for (const role of ['api', 'worker'] as const) {
      expect(env(tf, role, 'BATON_REDIS_CLUSTER')).toBe('false');
      expect(env(clustered, role, 'BATON_REDIS_CLUSTER')).toBe('true');
    }
    const [backlog, inFlight] = blocks(block(app('worker'), 'template')!, 'custom_scale_rule');
    expect(resolve(clustered, backlog?.custom_rule_type)).toBe('redis-cluster');
    expect(resolve(clustered, inFlight?.custom_rule_type)).toBe('redis-cluster');
    const metadata = resolve(clustered, backlog?.metadata) as Record<string, string>;
    expect(metadata.listName).toBe(runsWaitListKey(config.redisPrefix));
    expect(metadata.listName).toBe('{baton}:runs:wait');
    expect(metadata.addresses).toBe(metadata.address);
    expect((resolve(clustered, inFlight?.metadata) as Record<string, string>).listName).toBe(
      runsActiveListKey(config.redisPrefix),
    );
  });

  it('give workers a termination grace longer than the longest agent timeout', () => {
    const template = block(app('worker'), 'template')!;
    const grace = resolve(tf, template.termination_grace_period_seconds);
    const agentTimeout = variableDefault('max_agent_timeout_seconds');
    expect(typeof grace).toBe('number');
    expect(typeof agentTimeout).toBe('number');
    expect(grace as number).toBeGreaterThan(agentTimeout as number);
    expect(grace as number).toBeLessThanOrEqual(600);
    // The variable tracks baton's agent policy default, and Terraform refuses a grace that does not exceed it.
    expect((agentTimeout as number) * 1000).toBeGreaterThanOrEqual(agentPolicySchema.parse({}).timeoutMs);
    expect(template.termination_grace_period_seconds).toBe(
      hcl('var.worker_termination_grace_period_seconds'),
    );
    const conditions = blocks(tf.variables.worker_termination_grace_period_seconds ?? {}, 'validation').map(
      (v) => String(v.condition),
    );
    expect(
      conditions.some((c) =>
        /var\.worker_termination_grace_period_seconds\s*>\s*var\.max_agent_timeout_seconds/.test(c),
      ),
    ).toBe(true);
    // baton's own shutdown grace sits between the agent timeout and the platform's SIGKILL.
    const shutdownMs = Number(resolve(tf, envVar('worker', 'BATON_SHUTDOWN_GRACE_MS')?.value));
    expect(shutdownMs).toBeGreaterThan((agentTimeout as number) * 1000);
    expect(shutdownMs).toBeLessThan((grace as number) * 1000);
  });

  it('set only environment variables baton knows', () => {
    // AZURE_CLIENT_ID (DefaultAzureCredential with a user-assigned identity) must be in baton's config schema.
    for (const name of ['api', 'worker'] as const) {
      const names = [...env(name), ...dynamicEnv(name).map((d) => d.content)].map((e) => String(e.name));
      expect(names.length).toBeGreaterThan(0);
      expect(
        names.filter((n) => !isKnownEnvVar(n)),
        `${name}: unknown env vars`,
      ).toEqual([]);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('set literal values that baton config accepts', () => {
    for (const name of ['api', 'worker'] as const) {
      const literal = Object.fromEntries(
        env(name)
          .map((e) => [String(e.name), resolve(tf, e.value)] as const)
          .filter(([, v]) => v !== undefined && !isExpression(v))
          .map(([k, v]) => [k, String(v)]),
      );
      expect(() => loadConfig(literal), `${name} environment`).not.toThrow();
    }
  });

  it('configure the Azure OpenAI provider with Entra ID through the identity', () => {
    for (const name of ['api', 'worker'] as const) {
      const provider = envVar(name, 'BATON_MODEL_PROVIDER')?.value;
      expect(provider).toBe('azure-openai');
      expect(modelProviders).toContain(provider);
      expect(envVar(name, 'AZURE_OPENAI_ENDPOINT')?.value).toBe(openaiAccount('endpoint'));
      expect(envVar(name, 'AZURE_OPENAI_DEPLOYMENT')?.value).toBe(hcl('var.default_openai_deployment'));
      expect(envVar(name, 'AZURE_CLIENT_ID')?.value).toBe(ref('azurerm_user_assigned_identity', 'client_id'));
      expect(envVar(name, 'AZURE_OPENAI_API_KEY')).toBeUndefined();
    }
    const deployments = variableDefault('openai_deployments') as Record<string, unknown>;
    expect(Object.keys(deployments)).toContain(variableDefault('default_openai_deployment'));
  });
});

describe('terraform: secrets', () => {
  it('reach the apps only as Key Vault references resolved by the identity', () => {
    for (const name of ['api', 'worker'] as const) {
      const secrets = blocks(app(name), 'secret');
      expect(secrets.length).toBeGreaterThan(0);
      for (const s of secrets) {
        expect(s.value, `${name} secret ${String(s.name)} has a value`).toBeUndefined();
        expect(String(s.key_vault_secret_id)).toMatch(
          /^\$\{azurerm_key_vault_secret\.\w+\.versionless_id\}$/,
        );
        expect(s.identity).toBe(identityId());
      }
      const declared = new Set(secrets.map((s) => s.name));
      for (const e of env(name)) {
        if (e.secret_name !== undefined)
          expect(declared, `${name} ${String(e.name)}`).toContain(e.secret_name);
        if (SECRET_ENV.test(String(e.name))) {
          expect(e.secret_name, `${name} ${String(e.name)} must come from a secret`).toBeDefined();
          expect(e.value, `${name} ${String(e.name)} must not have a value`).toBeUndefined();
        }
      }
    }
    for (const [name, variable] of [
      ['api', 'REDIS_URL'],
      ['api', 'BATON_API_KEYS'],
      ['api', 'APPLICATIONINSIGHTS_CONNECTION_STRING'],
      ['worker', 'REDIS_URL'],
      ['worker', 'APPLICATIONINSIGHTS_CONNECTION_STRING'],
    ] as const) {
      expect(envVar(name, variable)?.secret_name, `${name} ${variable}`).toBeDefined();
    }
  });

  it('never write a literal credential into an env value', () => {
    for (const name of ['api', 'worker'] as const) {
      for (const e of env(name)) {
        const value = resolve(tf, e.value);
        if (typeof value !== 'string') continue;
        for (const pattern of LITERAL_SECRET) expect(value, `${name} ${String(e.name)}`).not.toMatch(pattern);
      }
    }
  });

  it('keep API keys and the Redis URL in an RBAC Key Vault with purge protection', () => {
    const vault = tf.resources.azurerm_key_vault?.baton;
    expect(vault).toBeDefined();
    expect(vault!.rbac_authorization_enabled ?? vault!.enable_rbac_authorization).toBe(true);
    expect(vault!.purge_protection_enabled).toBe(true);
    const secrets = Object.values(tf.resources.azurerm_key_vault_secret ?? {});
    const byName = (n: string) => secrets.find((s) => s.name === n);
    expect(byName('baton-api-keys')).toBeDefined();
    const redisUrl = String(byName('redis-url')?.value);
    expect(redisUrl.startsWith('rediss://:')).toBe(true);
    for (const attr of ['primary_access_key', 'hostname', 'ssl_port']) {
      expect(redisUrl).toContain(`azurerm_redis_cache.${single('azurerm_redis_cache')[0]}.${attr}`);
    }
    for (const s of secrets) {
      expect(s.key_vault_id).toBe(hcl('azurerm_key_vault.baton.id'));
      // Every value is computed from another resource, never typed in.
      expect(isExpression(s.value), `secret ${String(s.name)}`).toBe(true);
    }
  });

  it('contain no literal credential anywhere in the sources or the example variables', () => {
    const example = readFileSync(join(dir, 'terraform.tfvars.example'), 'utf8');
    for (const [file, text] of Object.entries({ ...tf.files, 'terraform.tfvars.example': example })) {
      for (const pattern of LITERAL_SECRET) expect(text, file).not.toMatch(pattern);
    }
    expect(example).not.toMatch(/^\s*(baton_api_keys|api_keys|redis_password)\s*=/m);
  });
});

describe('terraform: supporting resources', () => {
  it('serve Redis over TLS only, with the eviction policy BullMQ needs', () => {
    const [, redis] = single('azurerm_redis_cache');
    expect(redis.non_ssl_port_enabled).toBe(false);
    expect(redis.minimum_tls_version).toBe('1.2');
    expect(block(redis, 'redis_configuration')?.maxmemory_policy).toBe('noeviction');
  });

  it('grant the identity exactly AcrPull, Cognitive Services OpenAI User, Key Vault Secrets User, (with Foundry) Azure AI User and (with Content Safety) Cognitive Services User', () => {
    const principal = ref('azurerm_user_assigned_identity', 'principal_id');
    const assignments = Object.values(tf.resources.azurerm_role_assignment ?? {}).filter(
      (a) => a.principal_id === principal,
    );
    const byRole = Object.fromEntries(assignments.map((a) => [String(a.role_definition_name), a.scope]));
    expect(Object.keys(byRole).sort()).toEqual([
      'AcrPull',
      'Azure AI User',
      'Cognitive Services OpenAI User',
      'Cognitive Services User',
      'Key Vault Secrets User',
    ]);
    expect(assignments).toHaveLength(5);
    // On the Content Safety account only, and only when there is one.
    expect(byRole['Cognitive Services User']).toBe(hcl('azurerm_cognitive_account.content_safety[0].id'));
    expect(named('azurerm_role_assignment', 'identity_content_safety_user').count).toBe(
      hcl('var.enable_content_safety ? 1 : 0'),
    );
    expect(byRole.AcrPull).toBe(ref('azurerm_container_registry', 'id'));
    expect(byRole['Cognitive Services OpenAI User']).toBe(openaiAccount('id'));
    // On the Foundry project only, and only when there is one.
    expect(byRole['Azure AI User']).toBe(hcl('azurerm_cognitive_account_project.baton[0].id'));
    expect(named('azurerm_role_assignment', 'identity_foundry_user').count).toBe(
      hcl('var.enable_ai_foundry ? 1 : 0'),
    );
    expect(byRole['Key Vault Secrets User']).toBe(hcl('azurerm_key_vault.baton.id'));
    for (const name of ['api', 'worker'] as const) {
      const deps = app(name).depends_on as string[];
      for (const a of Object.keys(tf.resources.azurerm_role_assignment ?? {})) {
        if (tf.resources.azurerm_role_assignment?.[a]?.principal_id === principal) {
          expect(deps, `${name} waits for its role assignments`).toContain(
            `\${azurerm_role_assignment.${a}}`,
          );
        }
      }
    }
  });

  it('create an Entra-only Azure OpenAI account with deployments from a map', () => {
    const openai = named('azurerm_cognitive_account', 'openai');
    expect(openai.kind).toBe('OpenAI');
    expect(openai.local_auth_enabled).toBe(false);
    expect(openai.custom_subdomain_name).toBeDefined();
    const deployment = named('azurerm_cognitive_deployment', 'models');
    expect(deployment.for_each).toBe(hcl('var.openai_deployments'));
    expect(String(tf.variables.openai_deployments?.type)).toMatch(/^\$\{map\(object\(/);
  });

  it('create an Entra-only Content Safety account behind a variable and give the worker its endpoint', () => {
    const safety = named('azurerm_cognitive_account', 'content_safety');
    expect(safety.kind).toBe('ContentSafety');
    expect(safety.local_auth_enabled).toBe(false);
    expect(safety.count).toBe(hcl('var.enable_content_safety ? 1 : 0'));
    expect(variableDefault('enable_content_safety')).toBe(false);
    const endpoint = dynamicEnv('worker').find((d) => d.content.name === 'AZURE_CONTENT_SAFETY_ENDPOINT');
    expect(endpoint?.for_each).toBe(
      hcl('var.enable_content_safety ? [azurerm_cognitive_account.content_safety[0].endpoint] : []'),
    );
  });

  it('create no hub: a hub-based project has no endpoint @azure/ai-projects 2.x can use', () => {
    expect(tf.resources.azurerm_ai_foundry).toBeUndefined();
    expect(tf.resources.azurerm_ai_foundry_project).toBeUndefined();
  });

  it('keep the Foundry resource and project optional and off by default', () => {
    const flag = tf.variables.enable_ai_foundry;
    expect(flag?.type).toBe(hcl('bool'));
    expect(flag?.default).toBe(false);
    const toggled = hcl('var.enable_ai_foundry ? 1 : 0');
    expect(named('azurerm_cognitive_account', 'foundry').count).toBe(toggled);
    expect(named('azurerm_cognitive_account_project', 'baton').count).toBe(toggled);
    // Everything that refers to them exists only with them.
    for (const [type, byName] of Object.entries(tf.resources)) {
      for (const [name, body] of Object.entries(byName)) {
        const text = JSON.stringify({ ...body, depends_on: undefined });
        if (!/azurerm_cognitive_account\.foundry|azurerm_cognitive_account_project\./.test(text)) continue;
        if (body.for_each !== undefined)
          expect(body.for_each, `${type}.${name}`).toBe(hcl('local.foundry_deployments'));
        else expect(body.count, `${type}.${name}`).toBe(toggled);
      }
    }
    expect(String(tf.locals.foundry_deployments)).toBe(
      hcl('var.enable_ai_foundry ? var.openai_deployments : {}'),
    );
  });

  it('make the Foundry resource an Entra-only AIServices account that can hold projects', () => {
    const account = named('azurerm_cognitive_account', 'foundry');
    expect(account.kind).toBe('AIServices');
    expect(account.project_management_enabled).toBe(true);
    expect(account.local_auth_enabled).toBe(false);
    expect(account.custom_subdomain_name).toBe(hcl('local.foundry_subdomain'));
    expect(block(account, 'identity')?.type).toBe('SystemAssigned');
    const project = named('azurerm_cognitive_account_project', 'baton');
    expect(project.cognitive_account_id).toBe(hcl('azurerm_cognitive_account.foundry[0].id'));
    expect(project.name).toBe(hcl('local.foundry_project'));
    expect(block(project, 'identity')?.type).toBe('SystemAssigned');
    const deployment = named('azurerm_cognitive_deployment', 'foundry');
    expect(deployment.cognitive_account_id).toBe(hcl('azurerm_cognitive_account.foundry[0].id'));
  });

  it('give the apps the project endpoint as AZURE_AI_PROJECT_ENDPOINT, only when there is a project', () => {
    const endpoint = String(tf.locals.foundry_project_endpoint);
    expect(endpoint).toContain('var.enable_ai_foundry');
    expect(endpoint).toContain('azurerm_cognitive_account_project.baton[0].endpoints');
    expect(endpoint).toContain('"AI Foundry API"');
    // The fallback is the documented project endpoint shape, which the foundry provider is given.
    expect(tf.locals.foundry_project_endpoint_built).toBe(
      `https://${hcl('local.foundry_subdomain')}.services.ai.azure.com/api/projects/${hcl('local.foundry_project')}`,
    );
    const sample = 'https://aif-baton-prod-abc123.services.ai.azure.com/api/projects/proj-baton-prod';
    expect(() => loadConfig({ AZURE_AI_PROJECT_ENDPOINT: sample })).not.toThrow();
    for (const name of ['api', 'worker'] as const) {
      expect(envVar(name, 'AZURE_AI_PROJECT_ENDPOINT'), `${name}: not a plain env`).toBeUndefined();
      const dynamic = dynamicEnv(name).filter((d) => d.content.name === 'AZURE_AI_PROJECT_ENDPOINT');
      expect(dynamic, name).toHaveLength(1);
      expect(dynamic[0]?.for_each).toBe(hcl('var.enable_ai_foundry ? [local.foundry_project_endpoint] : []'));
      expect(dynamic[0]?.content.value).toBe(hcl('env.value'));
    }
    expect(tf.outputs.ai_foundry_project_endpoint?.value).toBe(hcl('local.foundry_project_endpoint'));
    expect(tf.outputs.ai_foundry_project_id?.value).toBe(
      hcl('var.enable_ai_foundry ? azurerm_cognitive_account_project.baton[0].id : null'),
    );
  });

  it('send container logs and telemetry to one Log Analytics workspace', () => {
    const workspace = ref('azurerm_log_analytics_workspace', 'id');
    expect(single('azurerm_container_app_environment')[1].log_analytics_workspace_id).toBe(workspace);
    expect(single('azurerm_application_insights')[1].workspace_id).toBe(workspace);
  });
});

describe('terraform: alerts', () => {
  const rules = () => Object.entries(tf.resources.azurerm_monitor_scheduled_query_rules_alert_v2 ?? {});
  const query = (rule: Block) => String(block(rule, 'criteria')?.query ?? '');

  it('email the configured address through one action group', () => {
    const [, group] = single('azurerm_monitor_action_group');
    expect(blocks(group, 'email_receiver').map((r) => r.email_address)).toEqual([hcl('var.alert_email')]);
  });

  // Metric and attribute names come from the code that records them, so a rename breaks this test.
  const dimension = (attribute: string) => `customDimensions["${attribute}"]`;
  it.each([
    ['run failure rate', METRIC_NAMES.runs, [dimension(ATTR_BATON_RUN_STATUS), '"failed"']],
    ['circuit breaker open', METRIC_NAMES.breakerState, [dimension(ATTR_GEN_AI_AGENT_NAME), 'valueMax']],
    [
      'oldest queued run',
      METRIC_NAMES.queueOldestWait,
      [`${dimension(ATTR_BATON_QUEUE)}) == "${RUNS_QUEUE}"`],
    ],
    ['queue backlog', METRIC_NAMES.queueWaiting, [`${dimension(ATTR_BATON_QUEUE)}) == "${RUNS_QUEUE}"`]],
    ['token spend', METRIC_NAMES.tokenUsage, ['sum(valueSum)']],
    [
      'online quality drop',
      METRIC_NAMES.evalScore,
      [`${dimension('baton.eval.scorer')}) == "judge"`, dimension(ATTR_BATON_VARIANT), 'by team, variant'],
    ],
  ])('alert on %s from the %s metric', (_label, metric, details) => {
    const matching = rules().filter(([, r]) => query(r).includes(`name == "${metric}"`));
    expect(matching, `a rule querying ${metric}`).toHaveLength(1);
    for (const detail of details) expect(query(matching[0]![1])).toContain(detail);
  });

  it('query customMetrics in Application Insights and page the action group', () => {
    expect(rules().length).toBeGreaterThanOrEqual(4);
    for (const [name, rule] of rules()) {
      expect(query(rule).trimStart().startsWith('customMetrics'), name).toBe(true);
      expect(rule.scopes).toEqual([ref('azurerm_application_insights', 'id')]);
      expect(block(rule, 'action')?.action_groups).toEqual([ref('azurerm_monitor_action_group', 'id')]);
      // The measured column is one the query produces.
      const column = block(rule, 'criteria')?.metric_measure_column;
      if (column !== undefined) expect(query(rule)).toMatch(new RegExp(`\\b${String(column)}\\s*=`));
    }
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
