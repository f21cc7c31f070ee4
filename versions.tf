terraform {
  # 1.9: a validation may read other variables (the root's checks name the consumers entry they are
  # about; the topic check reads create_sns_topic). 1.7 brought mock_provider to `terraform test`.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.79.0 added metrics_config to aws_lambda_event_source_mapping (hashicorp/terraform-provider-aws#40322).
      version = ">= 5.79.0, < 7.0"
    }
  }
}
