# GitHub webhooks (docs/github-webhooks.md), off by default. GitHub needs a public entry, and the console's ALB is
# internal, so a public ALB of its own forwards POST /webhooks/github, and nothing else, to the conductor's HTTP port;
# every other request gets a 404 from the ALB itself. The conductor checks each delivery's signature with the secret.

locals {
  github_webhooks_count = var.enable_github_webhooks ? 1 : 0
  github_webhook_secrets = var.enable_github_webhooks ? [
    { name = "GITHUB_WEBHOOK_SECRET", valueFrom = var.github_webhook_secret_arn },
  ] : []
}

resource "aws_security_group" "github_webhooks_alb" {
  count       = local.github_webhooks_count
  name        = "${local.name}-github-webhooks-alb"
  description = "GitHub webhook ALB: HTTPS from GitHub's hook ranges; the conductor's HTTP port out."
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "github_webhooks_alb_https" {
  for_each          = var.enable_github_webhooks ? toset(var.github_webhooks_allowed_cidrs) : toset([])
  security_group_id = aws_security_group.github_webhooks_alb[0].id
  description       = "GitHub's webhook deliveries"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "github_webhooks_alb_to_conductor" {
  count                        = local.github_webhooks_count
  security_group_id            = aws_security_group.github_webhooks_alb[0].id
  description                  = "The conductor's HTTP port"
  ip_protocol                  = "tcp"
  from_port                    = var.conductor_http_port
  to_port                      = var.conductor_http_port
  referenced_security_group_id = aws_security_group.conductor.id
}

resource "aws_vpc_security_group_ingress_rule" "conductor_http_from_github_webhooks_alb" {
  count                        = local.github_webhooks_count
  security_group_id            = aws_security_group.conductor.id
  description                  = "GitHub webhooks and health checks, from the webhook ALB only"
  ip_protocol                  = "tcp"
  from_port                    = var.conductor_http_port
  to_port                      = var.conductor_http_port
  referenced_security_group_id = aws_security_group.github_webhooks_alb[0].id
}

resource "aws_lb" "github_webhooks" {
  count                      = local.github_webhooks_count
  name                       = "${local.name}-github-hooks"
  internal                   = false
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.github_webhooks_alb[0].id]
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
}

resource "aws_lb_target_group" "github_webhooks" {
  count       = local.github_webhooks_count
  name        = "${local.name}-github-hooks"
  port        = var.conductor_http_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    path    = "/health/live"
    matcher = "200"
  }
}

resource "aws_lb_listener" "github_webhooks_https" {
  count             = local.github_webhooks_count
  load_balancer_arn = aws_lb.github_webhooks[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.github_webhooks_certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "Not Found"
      status_code  = "404"
    }
  }

  lifecycle {
    precondition {
      condition     = var.github_webhooks_certificate_arn != "" && var.github_webhook_secret_arn != "" && length(var.public_subnet_ids) > 0
      error_message = "enable_github_webhooks needs github_webhooks_certificate_arn, github_webhook_secret_arn and public_subnet_ids."
    }
  }
}

resource "aws_lb_listener_rule" "github_webhooks" {
  count        = local.github_webhooks_count
  listener_arn = aws_lb_listener.github_webhooks_https[0].arn
  priority     = 10

  condition {
    path_pattern {
      values = ["/webhooks/github"]
    }
  }

  condition {
    http_request_method {
      values = ["POST"]
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.github_webhooks[0].arn
  }
}

# The execution role injects the secret; the task role may send to the intake queue, which nothing else in the
# conductor does.
data "aws_iam_policy_document" "github_webhook_secret_read" {
  count = local.github_webhooks_count

  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [join(":", slice(split(":", var.github_webhook_secret_arn), 0, 7))]
  }
}

resource "aws_iam_role_policy" "github_webhook_secret_read" {
  count  = local.github_webhooks_count
  name   = "github-webhook-secret-read"
  role   = aws_iam_role.conductor_execution.id
  policy = data.aws_iam_policy_document.github_webhook_secret_read[0].json
}

data "aws_iam_policy_document" "github_webhooks_send" {
  count = local.github_webhooks_count

  statement {
    sid       = "QueueGitHubWebhooks"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.intake.arn]
  }
}

resource "aws_iam_role_policy" "github_webhooks_send" {
  count  = local.github_webhooks_count
  name   = "github-webhooks-send"
  role   = aws_iam_role.conductor_task.id
  policy = data.aws_iam_policy_document.github_webhooks_send[0].json
}
