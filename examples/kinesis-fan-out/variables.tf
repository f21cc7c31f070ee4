variable "enabled" {
  description = "Set to false to plan nothing (the policy tests check that)."
  type        = bool
  default     = true
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the pipeline; the archive consumer is `<name>-archive`."
  type        = string
  default     = "fanout"
}

variable "archive_enhanced_fan_out" {
  description = "Whether the archive reads through a registered enhanced fan-out consumer (its own 2 MiB/s per shard and ~70 ms); false makes it share the stream's read budget with the leaderboard."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "Who gets the alarms (each address must confirm its subscription)."
  type        = list(string)
  default     = []
}

variable "alarm_period_seconds" {
  description = "Period of the alarms: 300 s as in the workshop; the LocalStack tests use 10 (with local_emulator) to see an alarm fire within seconds."
  type        = number
  default     = 300
}

variable "local_emulator" {
  description = "Set only when applying to LocalStack: allows alarm periods below AWS's one minute."
  type        = bool
  default     = false
}

variable "maximum_record_age_seconds" {
  description = "The age at which Lambda gives a record up to the failure path: half the 24 h retention by default, the other half to replay it."
  type        = number
  default     = 43200
}
