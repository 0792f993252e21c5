import { createS3Client, S3ResultStore } from '@agent-conductor/aws';
import { readdirSync, readFileSync } from 'node:fs';
import {
  blocks,
  expandLocals,
  loadTerraformDir,
  parseTerraformFiles,
  referencesIn,
  stringList,
  unresolvedReferences,
  type HclObject,
  type TerraformModule,
} from '../src/lib/terraform';
import { fromRoot } from '../src/lib/workspace';

const TF_DIR = fromRoot('terraform');
let tf: TerraformModule;

beforeAll(async () => {
  tf = await loadTerraformDir(TF_DIR);
});

function resource(key: string): HclObject {
  const body = tf.resources.get(key);
  if (!body) throw new Error(`resource ${key} is missing`);
  return body;
}

function policyStatements(dataKey: string): HclObject[] {
  const doc = tf.data.get(dataKey);
  if (!doc) throw new Error(`data ${dataKey} is missing`);
  return blocks(doc, 'statement');
}

function containerDefinitions(taskDefinition: string): string {
  return String(resource(`aws_ecs_task_definition.${taskDefinition}`)['container_definitions']);
}

function defaultPort(variable: string): number {
  return Number(tf.variables.get(variable)?.['default']);
}

describe('terraform/ parses and every reference resolves', () => {
  it('has the expected files, each parsed by hcl2json', () => {
    const expected = ['versions.tf', 'variables.tf', 'outputs.tf', 'sqs.tf', 'eventbridge.tf', 'ecs.tf', 'rds.tf', 's3.tf', 'ecr.tf', 'iam.tf', 'network.tf', 'logs.tf'];
    expect(tf.files).toEqual(expect.arrayContaining(expected));
    expect(tf.files).toEqual(readdirSync(TF_DIR).filter((f) => f.endsWith('.tf')).sort());
  });

  it('resolves every var., local., module., data. and resource reference', () => {
    expect(unresolvedReferences(tf)).toEqual([]);
  });

  it('pins the AWS provider to ~> 5', () => {
    expect(readFileSync(fromRoot('terraform/versions.tf'), 'utf8')).toMatch(/source\s*=\s*"hashicorp\/aws"\s*\n\s*version\s*=\s*"~> 5\.\d+"/);
  });

  it('declares every variable with a description and a type, and uses each one', () => {
    const used = new Set(tf.expressions.flatMap(({ expression }) => referencesIn(expression)).filter((r) => r.kind === 'var').map((r) => r.name));
    for (const [name, body] of tf.variables) {
      expect({ name, description: typeof body['description'] }).toEqual({ name, description: 'string' });
      expect({ name, hasType: body['type'] !== undefined }).toEqual({ name, hasType: true });
      expect({ name, used: used.has(name) }).toEqual({ name, used: true });
    }
  });

  it('gives every output a description and a value that references something declared', () => {
    expect(tf.outputs.size).toBeGreaterThan(0);
    for (const [name, body] of tf.outputs) {
      expect({ name, description: typeof body['description'] }).toEqual({ name, description: 'string' });
      expect({ name, refs: referencesIn(JSON.stringify(body['value'] ?? '')).length > 0 }).toEqual({ name, refs: true });
    }
    const wanted = ['intake_queue_url', 'intake_dlq_url', 'cluster_name', 'ecr_repository_urls', 'results_bucket', 'db_endpoint', 'worker_task_definition_arn', 'migrate_task_definition_arn'];
    expect([...tf.outputs.keys()]).toEqual(expect.arrayContaining(wanted));
  });
});

describe('the checker itself catches broken references', () => {
  const base = (): Record<string, string> =>
    Object.fromEntries(readdirSync(TF_DIR).filter((f) => f.endsWith('.tf')).map((f) => [f, readFileSync(fromRoot('terraform', f), 'utf8')]));

  it.each([
    ['sqs.tf', 'aws_sqs_queue.intake_dlq.arn', 'aws_sqs_queue.intake_dlx.arn', 'sqs.tf: aws_sqs_queue.intake_dlx'],
    ['sqs.tf', 'var.sqs_max_receive_count', 'var.sqs_max_receives', 'sqs.tf: var.sqs_max_receives'],
    ['iam.tf', 'local.worker_task_definition_family_arn', 'local.worker_family_arn', 'iam.tf: local.worker_family_arn'],
    ['versions.tf', 'data.aws_region.current.name', 'data.aws_region.here.name', 'versions.tf: data.aws_region.here'],
  ])('%s: %s renamed to %s is reported', async (file, from, to, expected) => {
    const files = base();
    files[file] = (files[file] ?? '').replace(from, to);
    expect(unresolvedReferences(await parseTerraformFiles(files))).toContain(expected);
  });
});

describe('required infrastructure', () => {
  it.each([
    'aws_sqs_queue.intake',
    'aws_sqs_queue.intake_dlq',
    'aws_sqs_queue_policy.intake',
    'aws_cloudwatch_event_rule.alarm_state_change',
    'aws_cloudwatch_event_target.alarm_to_intake',
    'aws_ecs_cluster.main',
    'aws_ecs_service.conductor',
    'aws_ecs_service.scheduler',
    'aws_ecs_task_definition.worker',
    'aws_ecs_task_definition.migrate',
    'aws_db_instance.main',
    'aws_s3_bucket.results',
    'aws_s3_bucket_public_access_block.results',
    'aws_s3_bucket_server_side_encryption_configuration.results',
    'aws_s3_bucket_lifecycle_configuration.results',
    'aws_ecr_repository.app',
    'aws_cloudwatch_log_group.app',
  ])('declares %s', (key) => {
    expect(tf.resources.has(key)).toBe(true);
  });

  it('the intake queue redrives to the DLQ after var.sqs_max_receive_count receives', () => {
    const redrive = String(resource('aws_sqs_queue.intake')['redrive_policy']);
    expect(redrive).toMatch(/deadLetterTargetArn\s*=\s*aws_sqs_queue\.intake_dlq\.arn/);
    expect(redrive).toMatch(/maxReceiveCount\s*=\s*var\.sqs_max_receive_count/);
  });

  it('the EventBridge rule matches CloudWatch alarm state changes and targets the intake queue', () => {
    const pattern = String(resource('aws_cloudwatch_event_rule.alarm_state_change')['event_pattern']);
    expect(pattern).toMatch(/source\s*=\s*\["aws\.cloudwatch"\]/);
    expect(pattern).toMatch(/"detail-type"\s*=\s*\["CloudWatch Alarm State Change"\]/);
    expect(resource('aws_cloudwatch_event_target.alarm_to_intake')['arn']).toBe('${aws_sqs_queue.intake.arn}');
  });

  it('the queue policy lets only events.amazonaws.com send, from that rule', () => {
    expect(resource('aws_sqs_queue_policy.intake')['policy']).toBe('${data.aws_iam_policy_document.intake_queue.json}');
    const [statement, ...others] = policyStatements('aws_iam_policy_document.intake_queue');
    expect(others).toEqual([]);
    expect(stringList(statement?.['actions'])).toEqual(['sqs:SendMessage']);
    expect(blocks(statement ?? {}, 'principals')[0]?.['identifiers']).toEqual(['events.amazonaws.com']);
    const condition = blocks(statement ?? {}, 'condition')[0];
    expect(condition?.['variable']).toBe('aws:SourceArn');
    expect(condition?.['values']).toEqual(['${aws_cloudwatch_event_rule.alarm_state_change.arn}']);
  });

  it('creates the four ECR repositories, immutable and scanned on push', () => {
    const repo = resource('aws_ecr_repository.app');
    expect(String(tf.locals.get('images'))).toMatch(/toset\(\["conductor", "scheduler", "worker", "migrate"\]\)/);
    expect(repo['for_each']).toBe('${local.images}');
    expect(repo['image_tag_mutability']).toBe('IMMUTABLE');
    expect(blocks(repo, 'image_scanning_configuration')[0]?.['scan_on_push']).toBe(true);
  });

  it('keeps one log group per image with the retention variable', () => {
    const group = resource('aws_cloudwatch_log_group.app');
    expect(group['for_each']).toBe('${local.images}');
    expect(group['retention_in_days']).toBe('${var.log_retention_days}');
  });

  it('keeps the database private, encrypted and its password in Secrets Manager', () => {
    const db = resource('aws_db_instance.main');
    expect(db['engine']).toBe('postgres');
    expect(db['publicly_accessible']).toBe(false);
    expect(db['storage_encrypted']).toBe(true);
    expect(db['manage_master_user_password']).toBe(true);
    expect(db['password']).toBeUndefined();
  });

  it("expires each attempt's result archive and its agent session object alike: both keys are under the expiry rule's prefix", () => {
    const [rule] = blocks(resource('aws_s3_bucket_lifecycle_configuration.results'), 'rule');
    const [filter] = rule ? blocks(rule, 'filter') : [];
    const [expiration] = rule ? blocks(rule, 'expiration') : [];
    expect(expiration?.['days']).toBe('${var.results_expiration_days}');
    const prefix = expandLocals(tf, String(filter?.['prefix'])).replace('${var.results_prefix}', 'prod/');
    expect(prefix).toBe('prod/results/');
    const store = new S3ResultStore(createS3Client({ region: 'eu-west-1' }), { bucket: 'results', prefix: 'prod/' });
    const key = { jobId: 'job-1', workerId: 'worker-1', attempt: 1 };
    expect([store.objectKey(key), store.sessionObjectKey(key)].map((objectKey) => objectKey.startsWith(prefix))).toEqual([true, true]);
  });

  it('blocks public access to the results bucket', () => {
    const block = resource('aws_s3_bucket_public_access_block.results');
    for (const flag of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) {
      expect({ flag, value: block[flag] }).toEqual({ flag, value: true });
    }
  });
});

describe('ECS services and task definitions', () => {
  it('lets the old conductor drain: stopTimeout 120 and a 100/200 deployment', () => {
    const service = resource('aws_ecs_service.conductor');
    expect(service['deployment_minimum_healthy_percent']).toBe(100);
    expect(service['deployment_maximum_percent']).toBe(200);
    expect(service['launch_type']).toBe('FARGATE');
    expect(containerDefinitions('conductor')).toMatch(/stopTimeout\s*=\s*var\.conductor_stop_timeout_seconds/);
    expect(tf.variables.get('conductor_stop_timeout_seconds')?.['default']).toBe(120);
  });

  it('runs the worker only as a task definition the conductor launches, never as a service', () => {
    for (const [key, body] of tf.resources) {
      if (key.startsWith('aws_ecs_service.')) expect(String(body['task_definition'])).not.toMatch(/worker|migrate/);
    }
    const conductor = containerDefinitions('conductor');
    expect(conductor).toMatch(/"ECS_TASK_DEFINITION", value = aws_ecs_task_definition\.worker\.family/);
    expect(conductor).toMatch(/"WORKER_LAUNCHER", value = "ecs"/);
  });

  it('gives the worker its OPENAI_API_KEY and GITHUB_TOKEN as secrets, never as environment', () => {
    const worker = containerDefinitions('worker');
    expect(worker).toMatch(/name = "OPENAI_API_KEY", valueFrom = var\.openai_api_key_secret_arn/);
    expect(worker).toMatch(/name = "GITHUB_TOKEN", valueFrom = var\.github_token_secret_arn/);
    for (const taskDefinition of ['conductor', 'scheduler', 'worker', 'migrate']) {
      const environment = /environment\s*=\s*(?:concat\()?([\s\S]*?)\n\s*(?:secrets|logConfiguration)/.exec(containerDefinitions(taskDefinition))?.[1] ?? '';
      expect({ taskDefinition, secretInEnv: /name = "[A-Z_]*(TOKEN|KEY|SECRET|PASSWORD)"/.test(environment) }).toEqual({ taskDefinition, secretInEnv: false });
    }
  });

  it("passes the worker's token budget as AGENT_MAX_TOKENS only when it is set", () => {
    const worker = containerDefinitions('worker');
    expect(worker).toMatch(/var\.worker_agent_max_tokens == null \? \[\] : \[\s*\{ name = "AGENT_MAX_TOKENS", value = tostring\(var\.worker_agent_max_tokens\) \}/);
    expect(tf.variables.get('worker_agent_max_tokens')?.['default']).toBeNull();
  });

  it('runs `prisma migrate deploy` in the migrate task, not in the apps', () => {
    expect(containerDefinitions('migrate')).toContain('prisma migrate deploy');
    for (const app of ['conductor', 'scheduler', 'worker']) expect(containerDefinitions(app)).not.toMatch(/migrate/);
  });
});

describe('least-privilege database roles', () => {
  const readers = (secret: string): string[] =>
    [...tf.data.entries()]
      .filter(([, body]) => blocks(body, 'statement').some((statement) => stringList(statement['resources']).some((r) => r.includes(secret))))
      .map(([key]) => key);

  it('connects the conductor and scheduler as the app role, with its password, never the master', () => {
    expect(String(tf.locals.get('database_url'))).toMatch(/^postgresql:\/\/\$\{var\.db_app_username\}@/);
    expect(tf.locals.get('db_secrets')).toEqual([{ name: 'PGPASSWORD', valueFrom: '${local.db_app_password_secret}' }]);
    for (const app of ['conductor', 'scheduler']) {
      const definition = containerDefinitions(app);
      expect(definition).toMatch(/local\.db_secrets/);
      expect(definition).not.toMatch(/db_password_secret|master_user_secret/);
    }
  });

  it('runs migrations as the migrate role, with its own password', () => {
    const migrate = containerDefinitions('migrate');
    expect(migrate).toMatch(/"DB_USER", value = var\.db_migrate_username/);
    expect(migrate).toMatch(/"PGPASSWORD", valueFrom = local\.db_migrate_password_secret/);
    expect(migrate).not.toMatch(/local\.db_password_secret|db_app/);
  });

  it('creates both roles in a one-shot db-roles task, the only one given the master password', () => {
    const roles = containerDefinitions('db_roles');
    expect(roles).toMatch(/command\s*=\s*\["node", "db-roles\.js"\]/);
    expect(roles).toMatch(/"PGPASSWORD", valueFrom = local\.db_password_secret/);
    expect(roles).toMatch(/"DB_MIGRATE_PASSWORD", valueFrom = local\.db_migrate_password_secret/);
    expect(roles).toMatch(/"DB_APP_PASSWORD", valueFrom = local\.db_app_password_secret/);
    expect(resource('random_password.db_role')['special']).toBe(false);
    expect(readers('master_user_secret')).toEqual(['aws_iam_policy_document.db_roles_secret_read']);
    expect(readers('aws_secretsmanager_secret.db_role["app"]').sort()).toEqual(['aws_iam_policy_document.db_app_secret_read', 'aws_iam_policy_document.db_roles_secret_read']);
    const appPolicy = resource('aws_iam_role_policy.db_app_secret_read');
    expect(Object.keys((appPolicy['for_each'] ?? {}) as object).sort()).toEqual(['conductor', 'scheduler']);
  });
});

describe('TLS on the worker gRPC channel', () => {
  it('gives the conductor its certificate and key as secrets, and workers the CA, only when configured', () => {
    expect(String(tf.locals.get('conductor_tls'))).toMatch(/var\.conductor_tls_cert_secret_arn != "" && var\.conductor_tls_key_secret_arn != ""/);
    expect(String(tf.locals.get('conductor_tls_secrets'))).toMatch(/"CONDUCTOR_TLS_KEY", valueFrom = var\.conductor_tls_key_secret_arn/);
    expect(String(tf.locals.get('worker_tls_environment'))).toMatch(/"CONDUCTOR_TLS_CA", value = var\.conductor_tls_ca_pem/);
    expect(containerDefinitions('conductor')).toMatch(/secrets\s*=\s*concat\(local\.db_secrets, local\.conductor_tls_secrets[,)]/);
    expect(containerDefinitions('worker')).toMatch(/local\.worker_tls_environment/);
    // Plaintext stays the default: no certificate unless one is given.
    expect(tf.variables.get('conductor_tls_cert_secret_arn')?.['default']).toBe('');
    expect(resource('aws_iam_role_policy.conductor_tls_secret_read')['count']).toBe('${local.conductor_tls ? 1 : 0}');
  });
});

describe('least-privilege IAM for the conductor', () => {
  const statementsWith = (action: string): HclObject[] =>
    policyStatements('aws_iam_policy_document.conductor_task').filter((statement) => stringList(statement['actions']).includes(action));

  it('may RunTask only the worker task definition family and the extra families routes name, in the cluster', () => {
    const statements = statementsWith('ecs:RunTask');
    expect(statements).toHaveLength(1);
    const resources = stringList(statements[0]?.['resources']);
    expect(resources).toEqual(['${concat([local.worker_task_definition_family_arn], local.extra_worker_task_definition_family_arns)}']);
    expect(expandLocals(tf, '${local.worker_task_definition_family_arn}')).toMatch(
      /^arn:aws:ecs:.*:task-definition\/\$\{aws_ecs_task_definition\.worker\.family\}:\*$/,
    );
    // One family ARN (every revision) per name in var.extra_worker_task_definition_families, nothing wider; none by default.
    expect(String(tf.locals.get('extra_worker_task_definition_family_arns'))).toMatch(
      /^\$\{\[\s*for family in var\.extra_worker_task_definition_families\s*:\s*"arn:aws:ecs:\$\{local\.region\}:\$\{local\.account_id\}:task-definition\/\$\{family\}:\*"\s*\]\}$/,
    );
    expect(tf.variables.get('extra_worker_task_definition_families')?.['default']).toEqual([]);
    expect(blocks(statements[0] ?? {}, 'condition')[0]?.['values']).toEqual(['${aws_ecs_cluster.main.arn}']);
  });

  it('may StopTask and DescribeTasks only in the cluster', () => {
    for (const action of ['ecs:StopTask', 'ecs:DescribeTasks']) {
      const [statement, ...others] = statementsWith(action);
      expect(others).toEqual([]);
      expect(stringList(statement?.['resources']).every((r) => r.includes('task/${aws_ecs_cluster.main.name}/'))).toBe(true);
      expect(blocks(statement ?? {}, 'condition')[0]).toMatchObject({ variable: 'ecs:cluster', values: ['${aws_ecs_cluster.main.arn}'] });
    }
  });

  it('may pass only the worker task and execution roles', () => {
    const passRole = policyStatements('aws_iam_policy_document.conductor_task').concat(
      [...tf.data.entries()].filter(([key]) => key !== 'aws_iam_policy_document.conductor_task').flatMap(([, body]) => blocks(body, 'statement')),
    ).filter((statement) => stringList(statement['actions']).includes('iam:PassRole'));
    expect(passRole).toHaveLength(1);
    expect(new Set(stringList(passRole[0]?.['resources']))).toEqual(new Set(['${aws_iam_role.worker_task.arn}', '${aws_iam_role.worker_execution.arn}']));
  });

  it('may consume only the intake queue', () => {
    const [statement, ...others] = statementsWith('sqs:ReceiveMessage');
    expect(others).toEqual([]);
    expect(new Set(stringList(statement?.['actions']))).toEqual(
      new Set(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes']),
    );
    expect(stringList(statement?.['resources'])).toEqual(['${aws_sqs_queue.intake.arn}']);
  });

  it('has no Allow statement on "*" resources and no wildcard actions anywhere', () => {
    for (const [key, body] of tf.data) {
      for (const statement of blocks(body, 'statement')) {
        if (statement['effect'] === 'Deny') continue;
        expect({ key, resources: stringList(statement['resources']).includes('*') }).toEqual({ key, resources: false });
        expect({ key, actions: stringList(statement['actions']).some((a) => a.endsWith(':*') || a === '*') }).toEqual({ key, actions: false });
      }
    }
  });
});

describe('security groups', () => {
  const rules = (type: 'ingress' | 'egress'): Array<[string, HclObject]> =>
    [...tf.resources.entries()].filter(([key]) => key.startsWith(`aws_vpc_security_group_${type}_rule.`));
  const ports = (rule: HclObject): [number, number] => {
    const resolve = (value: unknown): number => {
      const variable = /^\$\{var\.(\w+)\}$/.exec(String(value));
      return variable ? defaultPort(variable[1] ?? '') : Number(value);
    };
    return [resolve(rule['from_port']), resolve(rule['to_port'])];
  };
  const open = (rule: HclObject): boolean => rule['cidr_ipv4'] === '0.0.0.0/0' || rule['cidr_ipv6'] === '::/0';

  it('never opens the gRPC or database ports to the internet', () => {
    const guarded = [defaultPort('conductor_grpc_port'), defaultPort('scheduler_grpc_port'), 5432];
    for (const [key, rule] of rules('ingress')) {
      const [from, to] = ports(rule);
      const exposed = open(rule) && guarded.some((port) => port >= from && port <= to);
      expect({ key, exposed }).toEqual({ key, exposed: false });
    }
    for (const [key, sg] of tf.resources) {
      if (key.startsWith('aws_security_group.')) expect({ key, inline: sg['ingress'] ?? sg['egress'] }).toEqual({ key, inline: undefined });
    }
  });

  const source = (rule: HclObject): string => String(rule['referenced_security_group_id'] ?? rule['cidr_ipv4']);
  const target = (rule: HclObject): string => String(rule['security_group_id']);

  it('lets workers reach only the conductor gRPC port and 443', () => {
    const egress = rules('egress').map(([, rule]) => rule).filter((rule) => target(rule) === '${aws_security_group.worker.id}');
    expect(egress.map((rule) => [source(rule), ...ports(rule)]).sort()).toEqual(
      [
        ['${aws_security_group.conductor.id}', 50051, 50051],
        ['0.0.0.0/0', 443, 443],
      ].sort(),
    );
    expect(rules('ingress').filter(([, rule]) => target(rule) === '${aws_security_group.worker.id}')).toEqual([]);
  });

  it.each([
    [
      'conductor',
      [
        ['${aws_security_group.worker.id}', 50051, 50051],
        // The console and health port, only when enable_console creates the ALB (see "the operator console").
        ['${aws_security_group.console_alb[0].id}', 8080, 8080],
        // Webhook deliveries, only when enable_github_webhooks creates the public ALB (see "GitHub webhooks").
        ['${aws_security_group.github_webhooks_alb[0].id}', 8080, 8080],
      ],
    ],
    ['scheduler', [['${aws_security_group.conductor.id}', 50052, 50052]]],
    [
      'db',
      [
        ['${aws_security_group.conductor.id}', 5432, 5432],
        ['${aws_security_group.migrate.id}', 5432, 5432],
        ['${aws_security_group.scheduler.id}', 5432, 5432],
      ],
    ],
  ])('the %s security group accepts only its expected sources', (group, expected) => {
    const ingress = rules('ingress').map(([, rule]) => rule).filter((rule) => target(rule) === `\${aws_security_group.${group}.id}`);
    expect(ingress.map((rule) => [source(rule), ...ports(rule)]).sort()).toEqual([...expected].sort());
  });
});

describe('the operator console (console.tf)', () => {
  const consoleResources = (): Array<[string, HclObject]> =>
    [...tf.resources.entries()].filter(([key]) => /console/.test(key) && !key.startsWith('aws_ecs_'));

  it('is off by default: every console resource exists only with enable_console', () => {
    expect(tf.variables.get('enable_console')?.['default']).toBe(false);
    const keys = consoleResources().map(([key]) => key);
    expect(keys.sort()).toEqual(
      [
        'aws_lb.console',
        'aws_lb_listener.console_https',
        'aws_lb_target_group.console',
        'aws_security_group.console_alb',
        'aws_vpc_security_group_egress_rule.console_alb_to_conductor',
        'aws_vpc_security_group_egress_rule.console_alb_to_idp',
        'aws_vpc_security_group_ingress_rule.conductor_http_from_console_alb',
        'aws_vpc_security_group_ingress_rule.console_alb_https',
      ].sort(),
    );
    for (const [key, body] of consoleResources()) {
      const gate = String(body['count'] ?? body['for_each'] ?? '');
      expect({ key, gated: /local\.console_count|var\.enable_console/.test(gate) }).toEqual({ key, gated: true });
    }
    expect(String(tf.locals.get('console_count'))).toBe('${var.enable_console ? 1 : 0}');
  });

  it('puts an internal ALB in front that signs operators in with OIDC before it forwards to the conductor', () => {
    const alb = resource('aws_lb.console');
    expect(alb).toMatchObject({ internal: true, load_balancer_type: 'application', drop_invalid_header_fields: true });
    const listener = resource('aws_lb_listener.console_https');
    expect(listener).toMatchObject({ port: 443, protocol: 'HTTPS', certificate_arn: '${var.console_certificate_arn}' });
    expect(String(listener['ssl_policy'])).toMatch(/^ELBSecurityPolicy-TLS13/);
    const actions = blocks(listener, 'default_action');
    expect(actions.map((action) => [action['order'], action['type']])).toEqual([
      [1, 'authenticate-oidc'],
      [2, 'forward'],
    ]);
    expect(blocks(actions[0] ?? {}, 'authenticate_oidc')[0]).toMatchObject({
      client_secret: '${var.console_oidc_client_secret}',
      on_unauthenticated_request: 'authenticate',
      scope: 'openid email',
    });
    expect(actions[1]?.['target_group_arn']).toBe('${aws_lb_target_group.console[0].arn}');
    expect(tf.variables.get('console_oidc_client_secret')?.['sensitive']).toBe(true);
    const group = resource('aws_lb_target_group.console');
    expect(group).toMatchObject({ port: '${var.conductor_http_port}', protocol: 'HTTP', target_type: 'ip' });
    expect(blocks(group, 'health_check')[0]).toMatchObject({ path: '/health/live' });
  });

  it('tells the conductor to trust only that ALB, registers it as a target, and lets it read the DLQ depth', () => {
    expect(String(tf.locals.get('console_environment'))).toMatch(/"CONSOLE_AUTH", value = "proxy"[\s\S]*"CONSOLE_PROXY_ALB_ARN", value = aws_lb\.console\[0\]\.arn/);
    expect(containerDefinitions('conductor')).toMatch(/local\.console_environment\)/);
    expect(containerDefinitions('conductor')).toMatch(/"SQS_DLQ_URL", value = aws_sqs_queue\.intake_dlq\.url/);
    const service = resource('aws_ecs_service.conductor');
    const dynamic = blocks(service, 'dynamic')[0] ?? {};
    const loadBalancer = blocks(dynamic, 'load_balancer')[0] ?? {};
    expect(loadBalancer['for_each']).toBe('${var.enable_console ? [1] : []}');
    expect(blocks(loadBalancer, 'content')[0]).toMatchObject({ container_name: 'conductor', container_port: '${var.conductor_http_port}' });
    const dlq = policyStatements('aws_iam_policy_document.conductor_task').filter((statement) => stringList(statement['resources']).includes('${aws_sqs_queue.intake_dlq.arn}'));
    expect(dlq.map((statement) => stringList(statement['actions']))).toEqual([['sqs:GetQueueAttributes']]);
  });

  it('opens the ALB to the listed networks only, and the conductor HTTP port to the ALB only', () => {
    const ingress = resource('aws_vpc_security_group_ingress_rule.console_alb_https');
    expect(ingress).toMatchObject({ cidr_ipv4: '${each.value}', from_port: 443, to_port: 443 });
    expect(String(ingress['for_each'])).toMatch(/var\.console_allowed_cidrs/);
    expect(tf.variables.get('console_allowed_cidrs')?.['default']).toEqual([]);
    expect(resource('aws_vpc_security_group_ingress_rule.conductor_http_from_console_alb')).toMatchObject({
      security_group_id: '${aws_security_group.conductor.id}',
      referenced_security_group_id: '${aws_security_group.console_alb[0].id}',
    });
  });
});

describe('GitHub webhooks (github-webhooks.tf)', () => {
  const webhookResources = (): Array<[string, HclObject]> => [...tf.resources.entries(), ...tf.data.entries()].filter(([key]) => /github_webhook/.test(key));

  it('is off by default: every webhook resource exists only with enable_github_webhooks', () => {
    expect(tf.variables.get('enable_github_webhooks')?.['default']).toBe(false);
    expect(webhookResources().map(([key]) => key).sort()).toEqual(
      [
        'aws_iam_policy_document.github_webhook_secret_read',
        'aws_iam_policy_document.github_webhooks_send',
        'aws_iam_role_policy.github_webhook_secret_read',
        'aws_iam_role_policy.github_webhooks_send',
        'aws_lb.github_webhooks',
        'aws_lb_listener.github_webhooks_https',
        'aws_lb_listener_rule.github_webhooks',
        'aws_lb_target_group.github_webhooks',
        'aws_security_group.github_webhooks_alb',
        'aws_vpc_security_group_egress_rule.github_webhooks_alb_to_conductor',
        'aws_vpc_security_group_ingress_rule.conductor_http_from_github_webhooks_alb',
        'aws_vpc_security_group_ingress_rule.github_webhooks_alb_https',
      ].sort(),
    );
    for (const [key, body] of webhookResources()) {
      const gate = String(body['count'] ?? body['for_each']);
      expect({ key, gated: /local\.github_webhooks_count|var\.enable_github_webhooks/.test(gate) }).toEqual({ key, gated: true });
    }
    expect(String(tf.locals.get('github_webhooks_count'))).toBe('${var.enable_github_webhooks ? 1 : 0}');
  });

  it('is a public ALB that forwards POST /webhooks/github alone and answers 404 to everything else', () => {
    expect(resource('aws_lb.github_webhooks')).toMatchObject({ internal: false, subnets: '${var.public_subnet_ids}', drop_invalid_header_fields: true });
    const listener = resource('aws_lb_listener.github_webhooks_https');
    expect(listener).toMatchObject({ port: 443, protocol: 'HTTPS', certificate_arn: '${var.github_webhooks_certificate_arn}' });
    const fallback = blocks(listener, 'default_action');
    expect(fallback).toHaveLength(1);
    expect(fallback[0]?.['type']).toBe('fixed-response');
    expect(blocks(fallback[0] ?? {}, 'fixed_response')[0]).toMatchObject({ status_code: '404' });
    const rule = resource('aws_lb_listener_rule.github_webhooks');
    const conditions = blocks(rule, 'condition');
    expect(conditions.flatMap((condition) => blocks(condition, 'path_pattern')).map((pattern) => pattern['values'])).toEqual([['/webhooks/github']]);
    expect(conditions.flatMap((condition) => blocks(condition, 'http_request_method')).map((method) => method['values'])).toEqual([['POST']]);
    expect(blocks(rule, 'action')).toEqual([{ type: 'forward', target_group_arn: '${aws_lb_target_group.github_webhooks[0].arn}' }]);
    expect(String(resource('aws_vpc_security_group_ingress_rule.github_webhooks_alb_https')['for_each'])).toMatch(/var\.github_webhooks_allowed_cidrs/);
    expect(tf.variables.get('github_webhooks_allowed_cidrs')?.['default']).toEqual([]);
  });

  it('gives the conductor the secret from Secrets Manager, registers it as a target, and lets it send to the intake queue only', () => {
    expect(String(tf.locals.get('github_webhook_secrets'))).toMatch(/"GITHUB_WEBHOOK_SECRET", valueFrom = var\.github_webhook_secret_arn/);
    expect(containerDefinitions('conductor')).toMatch(/local\.github_webhook_secrets\)/);
    expect(containerDefinitions('conductor')).not.toMatch(/name = "GITHUB_WEBHOOK_SECRET", value =/);
    const dynamics = blocks(resource('aws_ecs_service.conductor'), 'dynamic').flatMap((dynamic) => blocks(dynamic, 'load_balancer'));
    const webhooks = dynamics.find((loadBalancer) => loadBalancer['for_each'] === '${var.enable_github_webhooks ? [1] : []}');
    expect(blocks(webhooks ?? {}, 'content')[0]).toMatchObject({ target_group_arn: '${aws_lb_target_group.github_webhooks[0].arn}', container_port: '${var.conductor_http_port}' });
    const send = policyStatements('aws_iam_policy_document.github_webhooks_send');
    expect(send.map((statement) => [stringList(statement['actions']), stringList(statement['resources'])])).toEqual([[['sqs:SendMessage'], ['${aws_sqs_queue.intake.arn}']]]);
    expect(resource('aws_iam_role_policy.github_webhooks_send')['role']).toBe('${aws_iam_role.conductor_task.id}');
    expect(resource('aws_iam_role_policy.github_webhook_secret_read')['role']).toBe('${aws_iam_role.conductor_execution.id}');
  });
});
