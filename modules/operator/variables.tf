variable "enabled" {
  description = "Set to false to create nothing."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Name of the pipeline: the ledger table and its key are named after it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "The name must be 1 to 200 letters, digits, `_` or `-`."
  }
}

variable "source_type" {
  description = "`kinesis` or `dynamodb`: which stream actions the operator commands need."
  type        = string
  default     = "kinesis"
  nullable    = false

  validation {
    condition     = contains(["kinesis", "dynamodb"], var.source_type)
    error_message = "The source_type must be `kinesis` or `dynamodb`."
  }
}

variable "stream_arn" {
  description = "The Kinesis stream or DynamoDB stream ARN: the stream the doctor describes, and the only one redrive reads a failure's records from (it re-invokes the consumer that failed with them, and never writes into the stream)."
  type        = string
  default     = null
}

variable "source_table_arn" {
  description = "The DynamoDB source table created by the stream module, or null (doctor describes it)."
  type        = string
  default     = null
}

variable "stream_kms_key_arn" {
  description = "The stream's customer KMS key, or null for the AWS-managed key (which needs no grant)."
  type        = string
  default     = null
}

variable "consumers" {
  description = "The consumers, by key, from the consumer module's outputs: what the operator commands read and write for each."
  type = map(object({
    function_arn                 = string
    event_source_arn             = optional(string)
    on_failure_destination_arn   = optional(string)
    on_failure_queue_kms_key_arn = optional(string)
    on_failure_archive_key_arn   = optional(string)
    sink_table_arn               = optional(string)
    log_group_arn                = optional(string)
  }))
  default  = {}
  nullable = false
}

variable "operator_role_arns" {
  description = <<-EOT
    The IAM roles and users that run `stream-pipeline redrive --apply`: the only principals the
    ledger's HMAC key lets sign and verify (kms:GenerateMac, kms:VerifyMac). The account keeps the
    key's administration only, so an IAM policy alone (AdministratorAccess included) cannot MAC a
    ledger entry; empty, nobody can, and redrive says so. Each must exist when the key policy is put.
  EOT
  type        = list(string)
  default     = []
  nullable    = false
}

variable "ledger_kms_key_arn" {
  description = "A customer KMS key for the redrive ledger table; null uses the AWS-managed key `aws/dynamodb`. Its key policy must let the operators (and the doctor's readers) use it through DynamoDB."
  type        = string
  default     = null
}

variable "sns_topic_arn" {
  description = "The alarm topic (doctor reads its subscriptions; the alert-path test reads it too)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
