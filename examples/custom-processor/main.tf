# A processor of your own without forking: your module is packaged next to ours
# (scripts/package.py --add), named in RECORD_PROCESSOR, and given the permissions it needs.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "terraform-aws-stream-pipeline", Example = "custom-processor" }
  }
}

module "pipeline" {
  source = "../.."

  enabled     = var.enabled
  name        = var.name
  source_type = "kinesis"
  kinesis     = { shard_count = 1 }

  function = {
    # Built by: python scripts/package.py --out examples/custom-processor/build/lambda.zip \
    #             --add examples/custom-processor/processors/my_team
    package_path     = var.package_path
    record_processor = "my_team.orders:handle"
    environment      = { ORDERS_TABLE = var.orders_table_name }
    # What my_team.orders needs beyond what the module grants its own processors.
    policy_statements = [{
      sid       = "WriteTheTeamsOrders"
      actions   = ["dynamodb:PutItem"]
      resources = [var.orders_table_arn]
    }]
  }

  # The team writes to its own table; the module's sink is not needed.
  sink = { create = false }

  alarms = { email_addresses = var.alarm_emails }
}
