variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the pipeline; the team's own resources here are named after it too."
  type        = string
  default     = "orders"
}

variable "existing_stream_arn" {
  description = "The Kinesis stream of another stack to consume (its owner keeps it: nothing of it is created or changed); null declares the team's own stream here and passes it by reference."
  type        = string
  default     = null
}

variable "shard_count" {
  description = "The stream's shards: the team's own stream is created with them, another stack's must be given its current count (the consumer's concurrency check, its read budget, the capacity lines)."
  type        = number
  default     = 2
}

variable "enhanced_fan_out" {
  description = "Read through a registered enhanced fan-out consumer, its own 2 MiB/s per shard, so that the stream's owner keeps its read budget. false for a stream in another account: Kinesis registers consumers for the stream's owner only."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "Who gets the alarms through the team's pager topic (each address must confirm its subscription)."
  type        = list(string)
  default     = []
}

variable "alarm_period_seconds" {
  description = "Period of the alarms: 300 s as in the workshop; the LocalStack tests use 10 (with local_emulator)."
  type        = number
  default     = 300
}

variable "local_emulator" {
  description = "Set only when applying to LocalStack: allows alarm periods below AWS's one minute, and lets destroy empty the failure archive."
  type        = bool
  default     = false
}
