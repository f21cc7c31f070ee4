# The topic the alarms page: encrypted with a key CloudWatch may use, published to only by this
# pipeline's alarms, over TLS only. Whether to create it is var.create_sns_topic, a boolean known at
# plan: a count on `sns_topic_arn == null` fails when the caller passes the ARN of a topic it
# declares beside this module ("Invalid count argument"), the most common way to bring a topic.

locals {
  create_sns_topic = local.enabled && var.create_sns_topic
}

resource "aws_kms_key" "this" {
  count = local.create_sns_topic ? 1 : 0

  # CloudWatch cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key (its
  # policy cannot grant cloudwatch.amazonaws.com), so the topic gets a customer key (~$1/month).
  description             = "Encrypts the ${var.name} alarm topic; usable by CloudWatch alarms."
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_sns_topic ? 1 : 0

  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.this[0].key_id
}

locals {
  # The account and partition come from the key's own ARN: no sts:GetCallerIdentity call needed.
  key_arn_parts = local.create_sns_topic ? split(":", aws_kms_key.this[0].arn) : []
  partition     = local.create_sns_topic ? local.key_arn_parts[1] : null
  account_id    = local.create_sns_topic ? local.key_arn_parts[4] : null
  # Every alarm of this pipeline is named after it: "<name>-<alarm>" or "<name>-<consumer>-<alarm>".
  alarm_arn_pattern = local.create_sns_topic ? "arn:${local.partition}:cloudwatch:${data.aws_region.current.id}:${local.account_id}:alarm:${var.name}-*" : null
}

resource "aws_kms_key_policy" "this" {
  count = local.create_sns_topic ? 1 : 0

  key_id = aws_kms_key.this[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*" # In a key policy, "*" means this key.
      },
      {
        # The account's alarms may use the key; which alarms may publish is the topic policy's job
        # (AWS documents aws:SourceAccount for this grant; a source-ARN condition here is not
        # documented for the KMS calls SNS makes on the publisher's behalf, and a wrong guess would
        # silently stop every page).
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*" # In a key policy, "*" means this key.
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_sns_topic" "this" {
  count = local.create_sns_topic ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this[0].arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "this" {
  count = local.create_sns_topic ? 1 : 0

  arn = aws_sns_topic.this[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Only this pipeline's alarms, in this account and region, may publish (not every alarm of
        # the account: a page must mean this pipeline).
        Sid       = "ThisPipelinesAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this[0].arn
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = local.alarm_arn_pattern }
        }
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = ["sns:Publish", "sns:Subscribe", "sns:Receive"]
        Resource  = aws_sns_topic.this[0].arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.enabled ? toset(var.email_addresses) : toset([])

  topic_arn = local.topic_arn
  protocol  = "email"
  endpoint  = each.value
}
