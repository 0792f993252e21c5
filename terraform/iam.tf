# One execution role per task family (image pull, logs, its own secrets) and a
# task role per app holding only what that app's code calls.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- execution roles -----------------------------------------------------------

resource "aws_iam_role" "conductor_execution" {
  name               = "${local.name}-conductor-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role" "scheduler_execution" {
  name               = "${local.name}-scheduler-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role" "worker_execution" {
  name               = "${local.name}-worker-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role" "migrate_execution" {
  name               = "${local.name}-migrate-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role" "db_roles_execution" {
  name               = "${local.name}-db-roles-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution_base" {
  for_each = {
    conductor = aws_iam_role.conductor_execution.name
    scheduler = aws_iam_role.scheduler_execution.name
    worker    = aws_iam_role.worker_execution.name
    migrate   = aws_iam_role.migrate_execution.name
    db_roles  = aws_iam_role.db_roles_execution.name
  }

  role       = each.value
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# Each task reads the password of the role it connects as, injected as PGPASSWORD:
# the apps the app role's, migrate the migrate role's. Only db-roles reads the
# master password (and the two it sets).
data "aws_iam_policy_document" "db_app_secret_read" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.db_role["app"].arn]
  }
}

resource "aws_iam_role_policy" "db_app_secret_read" {
  for_each = {
    conductor = aws_iam_role.conductor_execution.id
    scheduler = aws_iam_role.scheduler_execution.id
  }

  name   = "db-app-secret-read"
  role   = each.value
  policy = data.aws_iam_policy_document.db_app_secret_read.json
}

data "aws_iam_policy_document" "db_migrate_secret_read" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.db_role["migrate"].arn]
  }
}

resource "aws_iam_role_policy" "db_migrate_secret_read" {
  name   = "db-migrate-secret-read"
  role   = aws_iam_role.migrate_execution.id
  policy = data.aws_iam_policy_document.db_migrate_secret_read.json
}

data "aws_iam_policy_document" "db_roles_secret_read" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_db_instance.main.master_user_secret[0].secret_arn,
      aws_secretsmanager_secret.db_role["migrate"].arn,
      aws_secretsmanager_secret.db_role["app"].arn,
    ]
  }
}

resource "aws_iam_role_policy" "db_roles_secret_read" {
  name   = "db-roles-secret-read"
  role   = aws_iam_role.db_roles_execution.id
  policy = data.aws_iam_policy_document.db_roles_secret_read.json
}

# The conductor's TLS certificate and key, when TLS is configured.
data "aws_iam_policy_document" "conductor_tls_secret_read" {
  count = local.conductor_tls ? 1 : 0

  statement {
    actions = ["secretsmanager:GetSecretValue"]
    # A "secret:json-key::" reference names the secret by its ARN's first seven fields.
    resources = distinct([
      for arn in [var.conductor_tls_cert_secret_arn, var.conductor_tls_key_secret_arn] : join(":", slice(split(":", arn), 0, 7))
    ])
  }
}

resource "aws_iam_role_policy" "conductor_tls_secret_read" {
  count = local.conductor_tls ? 1 : 0

  name   = "conductor-tls-secret-read"
  role   = aws_iam_role.conductor_execution.id
  policy = data.aws_iam_policy_document.conductor_tls_secret_read[0].json
}

# Only the worker's execution role can read the agent's credentials; they are
# injected as container secrets, never as plain environment.
data "aws_iam_policy_document" "worker_secrets_read" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.openai_api_key_secret_arn, var.github_token_secret_arn]
  }
}

resource "aws_iam_role_policy" "worker_secrets_read" {
  name   = "agent-secrets-read"
  role   = aws_iam_role.worker_execution.id
  policy = data.aws_iam_policy_document.worker_secrets_read.json
}

# --- task roles ----------------------------------------------------------------

resource "aws_iam_role" "conductor_task" {
  name               = "${local.name}-conductor-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

# Workers call nothing in AWS (results go through the conductor), so their task
# role carries no policy; it exists so the conductor passes a known role.
resource "aws_iam_role" "worker_task" {
  name               = "${local.name}-worker-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "conductor_task" {
  statement {
    sid = "ConsumeIntakeQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.intake.arn]
  }

  # The console shows the dead-letter depth; reading it is all the conductor does there.
  statement {
    sid       = "ReadDeadLetterDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.intake_dlq.arn]
  }

  statement {
    sid       = "LaunchWorkersOnly"
    actions   = ["ecs:RunTask"]
    resources = concat([local.worker_task_definition_family_arn], local.extra_worker_task_definition_family_arns)

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.main.arn]
    }
  }

  # RunTask with tags (job id, worker id) also needs TagResource on the new task.
  statement {
    sid       = "TagLaunchedWorkers"
    actions   = ["ecs:TagResource"]
    resources = ["arn:aws:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.main.name}/*"]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "StopAndInspectTasksInCluster"
    actions   = ["ecs:StopTask", "ecs:DescribeTasks"]
    resources = ["arn:aws:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.main.name}/*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.main.arn]
    }
  }

  statement {
    sid     = "PassOnlyWorkerRoles"
    actions = ["iam:PassRole"]
    resources = [
      aws_iam_role.worker_task.arn,
      aws_iam_role.worker_execution.arn,
    ]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  # The incident evidence pack reads alarms in any region of this account; GetMetricData has no resource-level
  # permissions, so it takes "*". Other accounts go through AssumeInvestigationRoles below.
  dynamic "statement" {
    for_each = var.incident_evidence ? [1] : []
    content {
      sid       = "ReadIncidentAlarms"
      actions   = ["cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"]
      resources = ["arn:aws:cloudwatch:*:${local.account_id}:alarm:*"]
    }
  }

  dynamic "statement" {
    for_each = var.incident_evidence ? [1] : []
    content {
      sid       = "ReadIncidentMetrics"
      actions   = ["cloudwatch:GetMetricData"]
      resources = ["*"]
    }
  }

  # A route's Logs Insights query ("logs"): StartQuery names the log groups, so it is held to this account's;
  # GetQueryResults and StopQuery take only a query id and have no resource-level permissions.
  dynamic "statement" {
    for_each = var.incident_evidence ? [1] : []
    content {
      sid       = "StartIncidentLogsQueries"
      actions   = ["logs:StartQuery"]
      resources = ["arn:aws:logs:*:${local.account_id}:log-group:*"]
    }
  }

  dynamic "statement" {
    for_each = var.incident_evidence ? [1] : []
    content {
      sid       = "ReadIncidentLogsQueries"
      actions   = ["logs:GetQueryResults", "logs:StopQuery"]
      resources = ["*"]
    }
  }

  # Other accounts' telemetry, through the roles routes name (investigation.roleArn): exactly those, never a pattern.
  dynamic "statement" {
    for_each = length(var.investigation_role_arns) > 0 ? [1] : []
    content {
      sid       = "AssumeInvestigationRoles"
      actions   = ["sts:AssumeRole"]
      resources = var.investigation_role_arns
    }
  }

  statement {
    sid       = "StoreResults"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.results.arn}/${local.results_key_prefix}*"]
  }
}

resource "aws_iam_role_policy" "conductor_task" {
  name   = "conductor"
  role   = aws_iam_role.conductor_task.id
  policy = data.aws_iam_policy_document.conductor_task.json
}
