resource "aws_sqs_queue" "intake_dlq" {
  name                      = "${local.name}-intake-dlq"
  message_retention_seconds = var.sqs_dlq_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "intake" {
  name                       = "${local.name}-intake"
  visibility_timeout_seconds = var.sqs_visibility_timeout_seconds
  receive_wait_time_seconds  = 20
  message_retention_seconds  = 345600
  # SQS-managed SSE: EventBridge can deliver to it without a KMS key policy.
  sqs_managed_sse_enabled = true

  # A message that keeps failing for an infrastructure reason lands here after
  # maxReceiveCount receives instead of being dropped.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.intake_dlq.arn
    maxReceiveCount     = var.sqs_max_receive_count
  })
}

# Only the intake queue may use the DLQ as its dead-letter target.
resource "aws_sqs_queue_redrive_allow_policy" "intake_dlq" {
  queue_url = aws_sqs_queue.intake_dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.intake.arn]
  })
}

data "aws_iam_policy_document" "intake_queue" {
  statement {
    sid       = "AllowAlarmRuleToSend"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.intake.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.alarm_state_change.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "intake" {
  queue_url = aws_sqs_queue.intake.id
  policy    = data.aws_iam_policy_document.intake_queue.json
}
