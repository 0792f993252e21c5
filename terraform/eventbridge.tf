# CloudWatch alarms reach the intake queue as EventBridge events; the scheduler
# classifies them as incidents.
resource "aws_cloudwatch_event_rule" "alarm_state_change" {
  name        = "${local.name}-alarm-state-change"
  description = "CloudWatch Alarm State Change events for the agent conductor's intake queue."

  event_pattern = jsonencode({
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
  })
}

resource "aws_cloudwatch_event_target" "alarm_to_intake" {
  rule      = aws_cloudwatch_event_rule.alarm_state_change.name
  target_id = "intake-queue"
  arn       = aws_sqs_queue.intake.arn
}
