output "intake_queue_url" {
  description = "SQS_QUEUE_URL for the conductor, and where tickets are pushed."
  value       = aws_sqs_queue.intake.url
}

output "intake_queue_arn" {
  description = "ARN of the intake queue."
  value       = aws_sqs_queue.intake.arn
}

output "intake_dlq_url" {
  description = "Dead-letter queue an operator inspects and redrives."
  value       = aws_sqs_queue.intake_dlq.url
}

output "cluster_name" {
  description = "ECS cluster running the services, workers and migrations."
  value       = aws_ecs_cluster.main.name
}

output "ecr_repository_urls" {
  description = "ECR repository URL per image (conductor, scheduler, worker, migrate)."
  value       = { for key, repo in aws_ecr_repository.app : key => repo.repository_url }
}

output "results_bucket" {
  description = "S3 bucket holding result archives."
  value       = aws_s3_bucket.results.bucket
}

output "db_endpoint" {
  description = "Postgres endpoint (host:port)."
  value       = aws_db_instance.main.endpoint
}

output "db_master_user_secret_arn" {
  description = "Secrets Manager secret RDS keeps the database password in."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "conductor_task_definition_arn" {
  description = "Conductor task definition (revision)."
  value       = aws_ecs_task_definition.conductor.arn
}

output "scheduler_task_definition_arn" {
  description = "Scheduler task definition (revision)."
  value       = aws_ecs_task_definition.scheduler.arn
}

output "worker_task_definition_arn" {
  description = "Worker task definition (revision) the conductor launches."
  value       = aws_ecs_task_definition.worker.arn
}

output "migrate_task_definition_arn" {
  description = "One-shot migration task definition, run before services roll."
  value       = aws_ecs_task_definition.migrate.arn
}

output "db_roles_task_definition_arn" {
  description = "One-shot task that creates the migrate and app Postgres roles as the master user; run before the migrate task."
  value       = aws_ecs_task_definition.db_roles.arn
}

output "db_role_secret_arns" {
  description = "Secrets Manager secrets holding the migrate and app roles' credentials."
  value       = { for key, secret in aws_secretsmanager_secret.db_role : key => secret.arn }
}

output "migrate_network_configuration" {
  description = "awsvpcConfiguration for `aws ecs run-task` of the migrate and db-roles tasks."
  value = jsonencode({
    awsvpcConfiguration = {
      subnets        = var.private_subnet_ids
      securityGroups = [aws_security_group.migrate.id]
      assignPublicIp = "DISABLED"
    }
  })
}

output "conductor_service_name" {
  description = "ECS service name of the conductor."
  value       = aws_ecs_service.conductor.name
}

output "scheduler_service_name" {
  description = "ECS service name of the scheduler."
  value       = aws_ecs_service.scheduler.name
}

output "console_url" {
  description = "The operator console behind its internal ALB (null unless enable_console); point a DNS name covered by the certificate at it."
  value       = var.enable_console ? "https://${aws_lb.console[0].dns_name}" : null
}

output "conductor_task_role_arn" {
  description = "The conductor's task role: conductor_task_role_arn of each monitored account's investigation-role module."
  value       = aws_iam_role.conductor_task.arn
}
