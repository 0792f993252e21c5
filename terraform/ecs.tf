resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

locals {
  image = { for key, repo in aws_ecr_repository.app : key => "${repo.repository_url}:${var.image_tag}" }

  log_configuration = {
    for key in local.images : key => {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app[key].name
        awslogs-region        = local.region
        awslogs-stream-prefix = key
      }
    }
  }

  db_environment = [
    { name = "DATABASE_URL", value = local.database_url },
  ]
  db_secrets = [
    { name = "PGPASSWORD", valueFrom = local.db_app_password_secret },
  ]

  # The conductor's certificate and key, injected from Secrets Manager (CONDUCTOR_TLS_CERT/KEY take PEM values).
  conductor_tls_secrets = local.conductor_tls ? [
    { name = "CONDUCTOR_TLS_CERT", valueFrom = var.conductor_tls_cert_secret_arn },
    { name = "CONDUCTOR_TLS_KEY", valueFrom = var.conductor_tls_key_secret_arn },
  ] : []
  # Not a secret: the CA workers verify the conductor against.
  worker_tls_environment = local.conductor_tls ? [
    { name = "CONDUCTOR_TLS_CA", value = var.conductor_tls_ca_pem },
  ] : []
}

# --- conductor -----------------------------------------------------------------

resource "aws_ecs_task_definition" "conductor" {
  family                   = "${local.name}-conductor"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.conductor_cpu
  memory                   = var.conductor_memory
  execution_role_arn       = aws_iam_role.conductor_execution.arn
  task_role_arn            = aws_iam_role.conductor_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = "conductor"
    image     = local.image["conductor"]
    essential = true
    # SIGTERM starts the shutdown gate's drain; ECS kills the container this
    # many seconds later (Fargate caps it at 120), so the drain has the lot.
    stopTimeout = var.conductor_stop_timeout_seconds
    portMappings = [
      { containerPort = var.conductor_grpc_port, protocol = "tcp" },
      { containerPort = var.conductor_http_port, protocol = "tcp" },
    ]
    environment = concat(local.db_environment, [
      { name = "NODE_ENV", value = "production" },
      { name = "AWS_REGION", value = local.region },
      { name = "SQS_QUEUE_URL", value = aws_sqs_queue.intake.url },
      { name = "SCHEDULER_GRPC_ADDR", value = "${local.scheduler_service_dns}:${var.scheduler_grpc_port}" },
      { name = "CONDUCTOR_GRPC_LISTEN_ADDR", value = "0.0.0.0:${var.conductor_grpc_port}" },
      { name = "CONDUCTOR_GRPC_DIAL_ADDR", value = "${local.conductor_service_dns}:${var.conductor_grpc_port}" },
      { name = "CONDUCTOR_HTTP_PORT", value = tostring(var.conductor_http_port) },
      { name = "WORKER_LAUNCHER", value = "ecs" },
      { name = "ECS_CLUSTER", value = aws_ecs_cluster.main.name },
      # The family, not a revision: RunTask takes the latest, which the IAM grant covers.
      { name = "ECS_TASK_DEFINITION", value = aws_ecs_task_definition.worker.family },
      { name = "ECS_CONTAINER_NAME", value = "worker" },
      { name = "ECS_SUBNETS", value = join(",", var.private_subnet_ids) },
      { name = "ECS_SECURITY_GROUPS", value = aws_security_group.worker.id },
      { name = "ECS_ASSIGN_PUBLIC_IP", value = tostring(var.worker_assign_public_ip) },
      { name = "ECS_STARTED_BY", value = "${local.name}-conductor" },
      { name = "RESULT_STORE", value = "s3" },
      { name = "RESULTS_BUCKET", value = aws_s3_bucket.results.bucket },
      { name = "RESULTS_PREFIX", value = var.results_prefix },
      { name = "SQS_DLQ_URL", value = aws_sqs_queue.intake_dlq.url },
      { name = "INCIDENT_EVIDENCE", value = var.incident_evidence ? "on" : "off" },
    ], local.console_environment)
    secrets          = concat(local.db_secrets, local.conductor_tls_secrets, local.github_webhook_secrets)
    logConfiguration = local.log_configuration["conductor"]
  }])
}

resource "aws_ecs_service" "conductor" {
  name            = "conductor"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.conductor.arn
  desired_count   = 1
  launch_type     = "FARGATE"

  # The new conductor starts before the old one is stopped, so intake never
  # pauses and reconnecting workers find a conductor to adopt them (handoff);
  # the old one then drains within its stopTimeout.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.conductor.id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.conductor.arn
  }

  dynamic "load_balancer" {
    for_each = var.enable_console ? [1] : []
    content {
      target_group_arn = aws_lb_target_group.console[0].arn
      container_name   = "conductor"
      container_port   = var.conductor_http_port
    }
  }

  dynamic "load_balancer" {
    for_each = var.enable_github_webhooks ? [1] : []
    content {
      target_group_arn = aws_lb_target_group.github_webhooks[0].arn
      container_name   = "conductor"
      container_port   = var.conductor_http_port
    }
  }

  # The target groups must be attached to their ALBs before the service registers with them.
  depends_on = [aws_iam_role_policy.conductor_task, aws_lb_listener.console_https, aws_lb_listener_rule.github_webhooks]
}

# --- scheduler -----------------------------------------------------------------

resource "aws_ecs_task_definition" "scheduler" {
  family                   = "${local.name}-scheduler"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.scheduler_cpu
  memory                   = var.scheduler_memory
  execution_role_arn       = aws_iam_role.scheduler_execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name         = "scheduler"
    image        = local.image["scheduler"]
    essential    = true
    stopTimeout  = 30
    portMappings = [{ containerPort = var.scheduler_grpc_port, protocol = "tcp" }]
    environment = concat(local.db_environment, [
      { name = "NODE_ENV", value = "production" },
      { name = "SCHEDULER_GRPC_LISTEN_ADDR", value = "0.0.0.0:${var.scheduler_grpc_port}" },
      { name = "DEFAULT_REPOSITORY_URL", value = var.default_repository_url },
      { name = "DEFAULT_REPOSITORY_BRANCH", value = var.default_repository_branch },
    ])
    secrets          = local.db_secrets
    logConfiguration = local.log_configuration["scheduler"]
  }])
}

resource "aws_ecs_service" "scheduler" {
  name            = "scheduler"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.scheduler.arn
  desired_count   = 1
  launch_type     = "FARGATE"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.scheduler.id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.scheduler.arn
  }
}

# --- worker: a task definition the conductor runs, never a service ----------------

resource "aws_ecs_task_definition" "worker" {
  family                   = "${local.name}-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.worker_cpu
  memory                   = var.worker_memory
  execution_role_arn       = aws_iam_role.worker_execution.arn
  task_role_arn            = aws_iam_role.worker_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  ephemeral_storage {
    size_in_gib = var.worker_ephemeral_storage_gib
  }

  # WORKER_ID, WORKER_TOKEN and CONDUCTOR_GRPC_SERVER_ADDR arrive as RunTask
  # container overrides from the conductor, one set per launch.
  container_definitions = jsonencode([{
    name      = "worker"
    image     = local.image["worker"]
    essential = true
    # The agent spawns build tools; an init process reaps them and forwards signals.
    linuxParameters = { initProcessEnabled = true }
    environment = concat([
      { name = "NODE_ENV", value = "production" },
      { name = "WORK_DIR", value = "/work" },
      { name = "AGENT_KIND", value = "codex" },
      { name = "PUBLISHER", value = "github" },
      ], var.worker_agent_max_tokens == null ? [] : [
      { name = "AGENT_MAX_TOKENS", value = tostring(var.worker_agent_max_tokens) },
    ], local.worker_tls_environment)
    secrets = [
      { name = "OPENAI_API_KEY", valueFrom = var.openai_api_key_secret_arn },
      { name = "GITHUB_TOKEN", valueFrom = var.github_token_secret_arn },
    ]
    logConfiguration = local.log_configuration["worker"]
  }])
}

# --- migrate: one-shot `prisma migrate deploy`, run before the services roll -------

resource "aws_ecs_task_definition" "migrate" {
  family                   = "${local.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.migrate_execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = "migrate"
    image     = local.image["migrate"]
    essential = true
    # Prisma's schema engine does not read PGPASSWORD, so the URL is assembled
    # in the container from the injected secret instead of living in the task
    # definition; sslmode=require is the engine's TLS-without-CA-check mode.
    entryPoint = ["/bin/sh", "-c"]
    command = [
      "export DATABASE_URL=\"postgresql://$DB_USER:$(node -p 'encodeURIComponent(process.env.PGPASSWORD)')@$DB_HOST/$DB_NAME?sslmode=require\" && exec npx prisma migrate deploy",
    ]
    # The migrate role owns the schema; it is neither the master user nor the apps' role.
    environment = [
      { name = "DB_USER", value = var.db_migrate_username },
      { name = "DB_HOST", value = "${aws_db_instance.main.address}:${aws_db_instance.main.port}" },
      { name = "DB_NAME", value = var.db_name },
    ]
    secrets          = [{ name = "PGPASSWORD", valueFrom = local.db_migrate_password_secret }]
    logConfiguration = local.log_configuration["migrate"]
  }])
}

# --- db-roles: one-shot, as the master user, before the migrate task --------------
# Creates (or re-passwords) the migrate and app roles and their grants; idempotent.
# Run it like the migrate task (same network configuration, output
# migrate_network_configuration), before the first migrate and after a rotation.

resource "aws_ecs_task_definition" "db_roles" {
  family                   = "${local.name}-db-roles"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.db_roles_execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = "db-roles"
    image     = local.image["conductor"]
    essential = true
    command   = ["node", "db-roles.js"]
    environment = [
      { name = "NODE_ENV", value = "production" },
      { name = "DB_HOST", value = "${aws_db_instance.main.address}:${aws_db_instance.main.port}" },
      { name = "DB_NAME", value = var.db_name },
      { name = "DB_ADMIN_USER", value = var.db_username },
      { name = "DB_MIGRATE_ROLE", value = var.db_migrate_username },
      { name = "DB_APP_ROLE", value = var.db_app_username },
    ]
    secrets = [
      { name = "PGPASSWORD", valueFrom = local.db_password_secret },
      { name = "DB_MIGRATE_PASSWORD", valueFrom = local.db_migrate_password_secret },
      { name = "DB_APP_PASSWORD", valueFrom = local.db_app_password_secret },
    ]
    logConfiguration = local.log_configuration["migrate"]
  }])

  depends_on = [aws_secretsmanager_secret_version.db_role]
}
