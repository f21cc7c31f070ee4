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
  description = "Name of the pipeline (and of the source table)."
  type        = string
  default     = "demo-dynamodb-stream"
}

variable "alarm_emails" {
  description = "Who gets the alarms and budget alerts (each address must confirm its subscription)."
  type        = list(string)
  default     = []
}

variable "budget_enabled" {
  description = "Create the workshop's $5 monthly budget (account-wide; needs at least one alarm email)."
  type        = bool
  default     = false
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
