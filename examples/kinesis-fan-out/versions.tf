terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.79.0 added metrics_config to aws_lambda_event_source_mapping (hashicorp/terraform-provider-aws#40322).
      version = ">= 5.79.0, < 7.0"
    }
  }
}
