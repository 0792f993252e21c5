terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = var.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  name       = var.name_prefix
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  conductor_service_dns = "conductor.${aws_service_discovery_private_dns_namespace.main.name}"
  scheduler_service_dns = "scheduler.${aws_service_discovery_private_dns_namespace.main.name}"

  # The conductor's RunTask grant names the worker family, so every revision a
  # deploy registers stays launchable without widening the statement to "*".
  worker_task_definition_family_arn = "arn:aws:ecs:${local.region}:${local.account_id}:task-definition/${aws_ecs_task_definition.worker.family}:*"
  # Worker task definitions that routes name (worker.taskDefinition in the scheduler's ROUTING_FILE), registered
  # outside this module with the worker's roles; the same grant per family.
  extra_worker_task_definition_family_arns = [
    for family in var.extra_worker_task_definition_families : "arn:aws:ecs:${local.region}:${local.account_id}:task-definition/${family}:*"
  ]

  # The apps read DATABASE_URL only, as the least-privilege app role; its password
  # comes from its secret as PGPASSWORD, which node-postgres falls back to when
  # the URL has none. The master user is for the db-roles task alone.
  database_url = "postgresql://${var.db_app_username}@${aws_db_instance.main.address}:${aws_db_instance.main.port}/${var.db_name}?sslmode=no-verify"
  # Where the conductor's S3 result store writes (libs/aws S3ResultStore key layout).
  results_key_prefix = "${var.results_prefix}results/"

  db_password_secret         = "${aws_db_instance.main.master_user_secret[0].secret_arn}:password::"
  db_app_password_secret     = "${aws_secretsmanager_secret.db_role["app"].arn}:password::"
  db_migrate_password_secret = "${aws_secretsmanager_secret.db_role["migrate"].arn}:password::"

  # TLS on the worker gRPC port once both secrets are given (docs/security-conductor.md).
  conductor_tls = var.conductor_tls_cert_secret_arn != "" && var.conductor_tls_key_secret_arn != ""
}
