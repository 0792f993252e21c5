# The role each monitored account creates for Agent Conductor (docs/incident-access.md). The conductor assumes it
# to gather an incident's evidence, and again with a read-only session policy for an agent whose route says
# "agentAccess": "read-only". Sessions last at most an hour.

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "ConductorWithExternalId"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [var.conductor_task_role_arn]
    }

    # The confused-deputy guard: another installation trusting the same principal cannot name this role.
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.external_id]
    }
  }
}

resource "aws_iam_role" "investigation" {
  name                 = var.name
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

# Telemetry and Describe* only: no data reads (S3 objects, DynamoDB items, secrets) and no writes. GetMetricData
# and Logs Insights have no resource-level permissions, hence "*".
data "aws_iam_policy_document" "read_only" {
  statement {
    sid       = "IncidentReadOnly"
    actions   = var.read_only_actions
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "read_only" {
  name   = "incident-read-only"
  role   = aws_iam_role.investigation.id
  policy = data.aws_iam_policy_document.read_only.json
}
