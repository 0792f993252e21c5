resource "aws_cloudwatch_log_group" "app" {
  for_each = local.images

  name              = "/ecs/${local.name}/${each.key}"
  retention_in_days = var.log_retention_days
}
