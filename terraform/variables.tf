variable "aws_region" {
  description = "AWS region for every resource."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix for resource names (queues, cluster, roles, log groups)."
  type        = string
  default     = "agent-conductor"
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default     = { Project = "agent-conductor" }
}

variable "vpc_id" {
  description = "VPC the services, workers and database run in."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (with a NAT route) for the ECS tasks and the database."
  type        = list(string)
}

variable "worker_assign_public_ip" {
  description = "Give worker tasks a public IP (only for subnets without NAT)."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Image tag deployed for conductor, scheduler, worker and migrate (ECR tags are immutable: use the commit SHA)."
  type        = string
}

variable "sqs_max_receive_count" {
  description = "Receives before an intake message moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "sqs_visibility_timeout_seconds" {
  description = "Intake queue visibility timeout; the conductor extends it while the scheduler commits."
  type        = number
  default     = 60
}

variable "sqs_dlq_retention_seconds" {
  description = "How long dead-lettered messages are kept for an operator (max 14 days)."
  type        = number
  default     = 1209600
}

variable "conductor_grpc_port" {
  description = "Port of the conductor's worker gRPC API."
  type        = number
  default     = 50051
}

variable "conductor_http_port" {
  description = "Port of the conductor's /health endpoint, metrics and the operator console."
  type        = number
  default     = 8080
}

variable "scheduler_grpc_port" {
  description = "Port of the scheduler's gRPC service."
  type        = number
  default     = 50052
}

variable "conductor_cpu" {
  description = "Fargate CPU units for the conductor task."
  type        = number
  default     = 512
}

variable "conductor_memory" {
  description = "Fargate memory (MiB) for the conductor task."
  type        = number
  default     = 1024
}

variable "scheduler_cpu" {
  description = "Fargate CPU units for the scheduler task."
  type        = number
  default     = 256
}

variable "scheduler_memory" {
  description = "Fargate memory (MiB) for the scheduler task."
  type        = number
  default     = 512
}

variable "worker_cpu" {
  description = "Fargate CPU units for each worker (agent) task."
  type        = number
  default     = 2048
}

variable "worker_memory" {
  description = "Fargate memory (MiB) for each worker task."
  type        = number
  default     = 4096
}

variable "worker_agent_max_tokens" {
  description = "Model tokens (input plus output) each job's agent may spend (AGENT_MAX_TOKENS); a route's maxTokens can only lower it. null: no budget but the routes'."
  type        = number
  default     = null

  validation {
    condition     = var.worker_agent_max_tokens == null || try(var.worker_agent_max_tokens >= 1 && floor(var.worker_agent_max_tokens) == var.worker_agent_max_tokens, false)
    error_message = "worker_agent_max_tokens must be a positive whole number, or null."
  }
}

variable "worker_ephemeral_storage_gib" {
  description = "Ephemeral storage for a worker's clone and build (21-200 GiB)."
  type        = number
  default     = 50
}

variable "conductor_stop_timeout_seconds" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL; the conductor drains in this window (Fargate maximum: 120)."
  type        = number
  default     = 120

  validation {
    condition     = var.conductor_stop_timeout_seconds >= 2 && var.conductor_stop_timeout_seconds <= 120
    error_message = "Fargate allows a stopTimeout between 2 and 120 seconds."
  }
}

variable "default_repository_url" {
  description = "Repository a job clones when routing names none (scheduler DEFAULT_REPOSITORY_URL)."
  type        = string
}

variable "default_repository_branch" {
  description = "Branch workers start from and pull requests target."
  type        = string
  default     = "main"
}

variable "extra_worker_task_definition_families" {
  description = "Task definition families, besides the worker's, that routes may launch (worker.taskDefinition in ROUTING_FILE). Each needs a container named \"worker\" and the worker's task and execution roles; the conductor may RunTask them in the cluster."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for family in var.extra_worker_task_definition_families : can(regex("^[A-Za-z0-9_-]{1,255}$", family))])
    error_message = "Each entry is a task definition family name (letters, digits, - and _), without revision or ARN."
  }
}

variable "openai_api_key_secret_arn" {
  description = "ARN of the Secrets Manager secret holding OPENAI_API_KEY (created and filled outside Terraform)."
  type        = string
}

variable "github_token_secret_arn" {
  description = "ARN of the Secrets Manager secret holding GITHUB_TOKEN (created and filled outside Terraform)."
  type        = string
}

variable "db_name" {
  description = "Database name."
  type        = string
  default     = "agent_conductor"
}

variable "db_username" {
  description = "Master user name; its password is generated and kept in Secrets Manager by RDS."
  type        = string
  default     = "agent_conductor"
}

variable "db_migrate_username" {
  description = "Role `prisma migrate deploy` connects as; it owns the schema. Created by the db-roles task."
  type        = string
  default     = "agent_conductor_migrate"
}

variable "db_app_username" {
  description = "Role the scheduler and conductor connect as: rows only, no DDL. Created by the db-roles task."
  type        = string
  default     = "agent_conductor_app"
}

variable "conductor_tls_cert_secret_arn" {
  description = "Secrets Manager secret (or secret:key) holding the conductor's PEM certificate chain for the worker gRPC port; empty keeps plaintext."
  type        = string
  default     = ""
}

variable "conductor_tls_key_secret_arn" {
  description = "Secrets Manager secret (or secret:key) holding the PEM private key of that certificate."
  type        = string
  default     = ""
}

variable "conductor_tls_ca_pem" {
  description = "PEM bundle of the private CA that issued the conductor's certificate; workers verify the conductor against it."
  type        = string
  default     = ""

  validation {
    condition     = var.conductor_tls_ca_pem == "" || startswith(trimspace(var.conductor_tls_ca_pem), "-----BEGIN CERTIFICATE-----")
    error_message = "conductor_tls_ca_pem is empty or a PEM certificate bundle."
  }
}

variable "db_engine_version" {
  description = "RDS PostgreSQL engine version. Its major must be the one docs/database.md names (a test checks)."
  type        = string
  default     = "16.4"
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.small"
}

variable "db_allocated_storage_gib" {
  description = "Initial RDS storage."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling."
  type        = number
  default     = 100
}

variable "db_backup_retention_days" {
  description = "Automated backup retention."
  type        = number
  default     = 7
}

variable "db_deletion_protection" {
  description = "Protect the database from terraform destroy."
  type        = bool
  default     = true
}

variable "results_prefix" {
  description = "RESULTS_PREFIX for the conductor (e.g. \"prod/\", or empty); archives land under <prefix>results/."
  type        = string
  default     = ""

  validation {
    condition     = var.results_prefix == "" || endswith(var.results_prefix, "/")
    error_message = "results_prefix is empty or ends with a slash."
  }
}

variable "results_expiration_days" {
  description = "Days before result objects expire."
  type        = number
  default     = 90
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for every app's log group."
  type        = number
  default     = 30
}

variable "ecr_keep_images" {
  description = "Images kept per ECR repository before older ones expire."
  type        = number
  default     = 50
}

variable "enable_console" {
  description = "Expose the operator console behind an internal ALB with OIDC sign-in (console.tf, docs/console.md)."
  type        = bool
  default     = false
}

variable "console_certificate_arn" {
  description = "ACM certificate for the console ALB's HTTPS listener (required with enable_console)."
  type        = string
  default     = ""
}

variable "console_allowed_cidrs" {
  description = "Networks allowed to reach the console ALB on 443 (the operators' VPN or office ranges)."
  type        = list(string)
  default     = []
}

variable "console_oidc" {
  description = "The OIDC identity provider the console ALB signs operators in with (required with enable_console)."
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
  })
  default = {
    issuer                 = ""
    authorization_endpoint = ""
    token_endpoint         = ""
    user_info_endpoint     = ""
    client_id              = ""
  }
}

variable "console_oidc_client_secret" {
  description = "The OIDC client secret of the console ALB (required with enable_console)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "incident_evidence" {
  description = "INCIDENT_EVIDENCE for the conductor: gather each incident alarm's definition, history and metric data from CloudWatch, and a route's Logs Insights query, in this account into the task files (docs/incident-evidence.md, docs/incidents.md)."
  type        = bool
  default     = false
}

variable "investigation_role_arns" {
  description = "The investigation roles (terraform/modules/investigation-role, one per monitored account) that routes name; the conductor may assume exactly these (docs/incident-access.md)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.investigation_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", arn))])
    error_message = "investigation_role_arns must be IAM role ARNs without wildcards."
  }
}

variable "enable_github_webhooks" {
  description = "Expose POST /webhooks/github, and only it, through a public ALB so GitHub can deliver PR review events (github-webhooks.tf, docs/github-webhooks.md)."
  type        = bool
  default     = false
}

variable "github_webhook_secret_arn" {
  description = "Secrets Manager secret holding the GitHub webhook secret (GITHUB_WEBHOOK_SECRET; required with enable_github_webhooks)."
  type        = string
  default     = ""
}

variable "github_webhooks_certificate_arn" {
  description = "ACM certificate for the webhook ALB's HTTPS listener (required with enable_github_webhooks)."
  type        = string
  default     = ""
}

variable "public_subnet_ids" {
  description = "Public subnets (with an internet gateway route) for the webhook ALB (required with enable_github_webhooks)."
  type        = list(string)
  default     = []
}

variable "github_webhooks_allowed_cidrs" {
  description = "Networks allowed to reach the webhook ALB on 443: GitHub's `hooks` ranges from https://api.github.com/meta (the signature is checked either way)."
  type        = list(string)
  default     = []
}
