# The operator console (docs/console.md), off by default: an internal ALB that signs operators in with OIDC and
# forwards to the conductor's HTTP port. The conductor trusts only the identity this ALB signs
# (CONSOLE_AUTH=proxy, CONSOLE_PROXY_ALB_ARN), so the console is reachable through it alone.

locals {
  console_count = var.enable_console ? 1 : 0
  console_environment = var.enable_console ? [
    { name = "CONSOLE_AUTH", value = "proxy" },
    { name = "CONSOLE_PROXY_ALB_ARN", value = aws_lb.console[0].arn },
  ] : []
}

resource "aws_security_group" "console_alb" {
  count       = local.console_count
  name        = "${local.name}-console-alb"
  description = "Console ALB: HTTPS from the operators' networks; the conductor's HTTP port and the IdP out."
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "console_alb_https" {
  for_each          = var.enable_console ? toset(var.console_allowed_cidrs) : toset([])
  security_group_id = aws_security_group.console_alb[0].id
  description       = "Operators' browsers"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "console_alb_to_conductor" {
  count                        = local.console_count
  security_group_id            = aws_security_group.console_alb[0].id
  description                  = "The conductor's console and health port"
  ip_protocol                  = "tcp"
  from_port                    = var.conductor_http_port
  to_port                      = var.conductor_http_port
  referenced_security_group_id = aws_security_group.conductor.id
}

# The ALB calls the IdP's token and user-info endpoints itself.
resource "aws_vpc_security_group_egress_rule" "console_alb_to_idp" {
  count             = local.console_count
  security_group_id = aws_security_group.console_alb[0].id
  description       = "OIDC token and user-info endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "conductor_http_from_console_alb" {
  count                        = local.console_count
  security_group_id            = aws_security_group.conductor.id
  description                  = "Console and health checks, from the console ALB only"
  ip_protocol                  = "tcp"
  from_port                    = var.conductor_http_port
  to_port                      = var.conductor_http_port
  referenced_security_group_id = aws_security_group.console_alb[0].id
}

resource "aws_lb" "console" {
  count              = local.console_count
  name               = "${local.name}-console"
  internal           = true
  load_balancer_type = "application"
  security_groups    = [aws_security_group.console_alb[0].id]
  subnets            = var.private_subnet_ids
  # A client-sent x-amzn-oidc-* header is dropped here, never passed on next to the ALB's own.
  drop_invalid_header_fields = true
}

resource "aws_lb_target_group" "console" {
  count       = local.console_count
  name        = "${local.name}-console"
  port        = var.conductor_http_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    path    = "/health/live"
    matcher = "200"
  }
}

resource "aws_lb_listener" "console_https" {
  count             = local.console_count
  load_balancer_arn = aws_lb.console[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.console_certificate_arn

  default_action {
    type  = "authenticate-oidc"
    order = 1

    authenticate_oidc {
      issuer                     = var.console_oidc.issuer
      authorization_endpoint     = var.console_oidc.authorization_endpoint
      token_endpoint             = var.console_oidc.token_endpoint
      user_info_endpoint         = var.console_oidc.user_info_endpoint
      client_id                  = var.console_oidc.client_id
      client_secret              = var.console_oidc_client_secret
      scope                      = "openid email"
      on_unauthenticated_request = "authenticate"
    }
  }

  default_action {
    type             = "forward"
    order            = 2
    target_group_arn = aws_lb_target_group.console[0].arn
  }

  lifecycle {
    precondition {
      condition     = var.console_certificate_arn != "" && var.console_oidc.issuer != "" && var.console_oidc_client_secret != ""
      error_message = "enable_console needs console_certificate_arn, console_oidc and console_oidc_client_secret."
    }
  }
}
