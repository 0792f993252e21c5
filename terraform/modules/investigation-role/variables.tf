variable "name" {
  description = "Name of the role in the monitored account; routes name its ARN as investigation.roleArn."
  type        = string
  default     = "agent-conductor-investigation"
}

variable "conductor_task_role_arn" {
  description = "ARN of the conductor's ECS task role (the conductor_task_role_arn output of terraform/), the only principal trusted."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.conductor_task_role_arn))
    error_message = "conductor_task_role_arn must be an IAM role ARN."
  }
}

variable "external_id" {
  description = "External id the conductor sends with AssumeRole (the route's investigation.externalId); not a secret, but unique per installation."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@:/-]{2,1224}$", var.external_id))
    error_message = "external_id must be 2 to 1224 characters of letters, digits and +=,.@:/-_."
  }
}

variable "read_only_actions" {
  description = "What the role may do: read-only CloudWatch, Logs, X-Ray and Describe* (libs/aws READ_ONLY_INVESTIGATION_ACTIONS). A route's sessionPolicy can only narrow it."
  type        = list(string)
  default = [
    "cloudwatch:Describe*",
    "cloudwatch:Get*",
    "cloudwatch:List*",
    "logs:Describe*",
    "logs:Get*",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:StopQuery",
    "logs:TestMetricFilter",
    "xray:BatchGet*",
    "xray:Get*",
    "xray:List*",
    "autoscaling:Describe*",
    "dynamodb:Describe*",
    "ec2:Describe*",
    "ecs:Describe*",
    "elasticloadbalancing:Describe*",
    "lambda:GetFunctionConfiguration",
    "rds:Describe*",
  ]
}
