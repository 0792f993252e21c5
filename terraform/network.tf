# The VPC and subnets are the caller's; this file only adds the security groups
# and the private DNS names the tasks find each other by. Rules are separate
# resources so each grant is one reviewable line of intent.

resource "aws_security_group" "conductor" {
  name        = "${local.name}-conductor"
  description = "Conductor: worker gRPC API in; SQS/ECS APIs, scheduler and database out."
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "scheduler" {
  name        = "${local.name}-scheduler"
  description = "Scheduler: gRPC from the conductor only; database out."
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "worker" {
  name        = "${local.name}-worker"
  description = "Agent workers: only the conductor's gRPC port and HTTPS to the internet."
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "migrate" {
  name        = "${local.name}-migrate"
  description = "One-shot migration task: database out; HTTPS for image and engine pulls."
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "db" {
  name        = "${local.name}-db"
  description = "Postgres: 5432 from the conductor, scheduler and migrate task only."
  vpc_id      = var.vpc_id
}

# --- conductor ---------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "conductor_grpc_from_worker" {
  security_group_id            = aws_security_group.conductor.id
  description                  = "Worker gRPC API, from workers only"
  ip_protocol                  = "tcp"
  from_port                    = var.conductor_grpc_port
  to_port                      = var.conductor_grpc_port
  referenced_security_group_id = aws_security_group.worker.id
}

resource "aws_vpc_security_group_egress_rule" "conductor_https" {
  security_group_id = aws_security_group.conductor.id
  description       = "AWS APIs (SQS, ECS, S3, Secrets Manager, Logs) and image pulls"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "conductor_to_scheduler" {
  security_group_id            = aws_security_group.conductor.id
  description                  = "SubmitMessage to the scheduler"
  ip_protocol                  = "tcp"
  from_port                    = var.scheduler_grpc_port
  to_port                      = var.scheduler_grpc_port
  referenced_security_group_id = aws_security_group.scheduler.id
}

resource "aws_vpc_security_group_egress_rule" "conductor_to_db" {
  security_group_id            = aws_security_group.conductor.id
  description                  = "Postgres"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

# --- scheduler ---------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "scheduler_grpc_from_conductor" {
  security_group_id            = aws_security_group.scheduler.id
  description                  = "Scheduler gRPC, from the conductor only"
  ip_protocol                  = "tcp"
  from_port                    = var.scheduler_grpc_port
  to_port                      = var.scheduler_grpc_port
  referenced_security_group_id = aws_security_group.conductor.id
}

resource "aws_vpc_security_group_egress_rule" "scheduler_https" {
  security_group_id = aws_security_group.scheduler.id
  description       = "Image pulls, Secrets Manager and Logs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "scheduler_to_db" {
  security_group_id            = aws_security_group.scheduler.id
  description                  = "Postgres"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

# --- worker: the conductor's gRPC port and HTTPS, nothing else ---------------

resource "aws_vpc_security_group_egress_rule" "worker_to_conductor" {
  security_group_id            = aws_security_group.worker.id
  description                  = "The conductor's worker gRPC API"
  ip_protocol                  = "tcp"
  from_port                    = var.conductor_grpc_port
  to_port                      = var.conductor_grpc_port
  referenced_security_group_id = aws_security_group.conductor.id
}

resource "aws_vpc_security_group_egress_rule" "worker_https" {
  security_group_id = aws_security_group.worker.id
  description       = "GitHub, OpenAI, package registries, image pulls"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# --- migrate -----------------------------------------------------------------

resource "aws_vpc_security_group_egress_rule" "migrate_https" {
  security_group_id = aws_security_group.migrate.id
  description       = "Image pulls, Secrets Manager and Logs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "migrate_to_db" {
  security_group_id            = aws_security_group.migrate.id
  description                  = "Postgres"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

# --- database ----------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "db_from_conductor" {
  security_group_id            = aws_security_group.db.id
  description                  = "Postgres from the conductor"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.conductor.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_scheduler" {
  security_group_id            = aws_security_group.db.id
  description                  = "Postgres from the scheduler"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.scheduler.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_migrate" {
  security_group_id            = aws_security_group.db.id
  description                  = "Postgres from the one-shot migrate task"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.migrate.id
}

# --- service discovery -------------------------------------------------------

# Task IPs change on every deploy; workers and the conductor dial stable names,
# so a replacement conductor is found by the workers that reconnect (handoff).
resource "aws_service_discovery_private_dns_namespace" "main" {
  name        = "${local.name}.internal"
  description = "Private names for the conductor and scheduler"
  vpc         = var.vpc_id
}

resource "aws_service_discovery_service" "conductor" {
  name = "conductor"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_service_discovery_service" "scheduler" {
  name = "scheduler"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }
}
