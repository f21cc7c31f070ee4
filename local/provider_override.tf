# The one place that points the AWS provider at a local emulator (LocalStack) or plans offline.
# `make plan-json` and the LocalStack targets copy it into an example as provider_override.tf;
# Terraform merges it over the example's own provider block. Endpoints come from the standard
# AWS_ENDPOINT_URL variable (the provider honours it), never from a list kept in several files.
provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
}
