resource "aws_db_subnet_group" "main" {
  name       = "${local.name}-db"
  subnet_ids = var.private_subnet_ids
}

resource "aws_db_instance" "main" {
  identifier     = "${local.name}-db"
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  db_name  = var.db_name
  username = var.db_username
  # RDS generates the password and keeps it in Secrets Manager; it never
  # appears in Terraform state or variables.
  manage_master_user_password = true

  allocated_storage     = var.db_allocated_storage_gib
  max_allocated_storage = var.db_max_allocated_storage_gib
  storage_type          = "gp3"
  storage_encrypted     = true

  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false

  backup_retention_period   = var.db_backup_retention_days
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.name}-db-final"
  copy_tags_to_snapshot     = true

  auto_minor_version_upgrade   = true
  performance_insights_enabled = true
}

# --- least-privilege roles -------------------------------------------------------
# The db-roles task (ecs.tf) creates both roles with these passwords as the master
# user; the migrate task then connects as migrate, the apps as app. The passwords
# live in Secrets Manager for ECS to inject, and in Terraform state (keep the state
# encrypted and restricted, as for any secret it holds).

resource "random_password" "db_role" {
  for_each = toset(["migrate", "app"])

  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "db_role" {
  for_each = toset(["migrate", "app"])

  name        = "${local.name}/db/${each.key}"
  description = "Password of the ${each.key} Postgres role (created by the db-roles task)."
}

resource "aws_secretsmanager_secret_version" "db_role" {
  for_each = toset(["migrate", "app"])

  secret_id = aws_secretsmanager_secret.db_role[each.key].id
  secret_string = jsonencode({
    username = each.key == "app" ? var.db_app_username : var.db_migrate_username
    password = random_password.db_role[each.key].result
  })
}
