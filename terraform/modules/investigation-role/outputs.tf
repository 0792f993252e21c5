output "role_arn" {
  description = "The role's ARN: the route's investigation.roleArn, and one entry of investigation_role_arns in terraform/."
  value       = aws_iam_role.investigation.arn
}
