output "redrive_ledger_table_name" {
  description = "The redrive ledger table, or null."
  value       = try(aws_dynamodb_table.ledger[0].name, null)
}

output "redrive_ledger_table_arn" {
  description = "The redrive ledger table ARN, or null."
  value       = local.ledger
}

output "redrive_ledger_key_arn" {
  description = "The KMS HMAC key that signs the ledger's items, or null."
  value       = local.mac_key
}

output "doctor_policy_json" {
  description = "The least-privilege IAM policy for `stream-pipeline doctor` (read-only), to attach to your operators' role."
  value       = local.enabled ? jsonencode({ Version = "2012-10-17", Statement = local.doctor_statements }) : null
}

output "redrive_policy_json" {
  description = "The least-privilege IAM policy for `stream-pipeline redrive` (dry run and --apply)."
  value       = local.enabled ? jsonencode({ Version = "2012-10-17", Statement = local.redrive_statements }) : null
}
