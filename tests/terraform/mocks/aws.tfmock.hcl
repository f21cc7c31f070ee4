# Values the modules parse (ARNs, the region). Mocked strings are otherwise random, and with
# override_during = plan these values are known at plan time, so assertions can read them.

mock_data "aws_region" {
  defaults = {
    id   = "eu-west-1"
    name = "eu-west-1"
  }
}

mock_resource "aws_kinesis_stream" {
  defaults = {
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
  }
}

mock_resource "aws_kinesis_stream_consumer" {
  defaults = {
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-consumer:1700000000"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = {
    arn          = "arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline"
    stream_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline/stream/2026-11-23T00:00:00.000"
    stream_label = "2026-11-23T00:00:00.000"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:pipeline-failures"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/pipeline-failures"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/pipeline"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/pipeline-role"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:pipeline"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:eu-west-1:123456789012:pipeline-alarms"
  }
}

mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pipeline"
  }
}

mock_resource "aws_cloudwatch_composite_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pipeline-pipeline-unhealthy"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn    = "arn:aws:s3:::pipeline-failures-20261123"
    bucket = "pipeline-failures-20261123"
  }
}
