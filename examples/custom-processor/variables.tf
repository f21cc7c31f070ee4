variable "enabled" {
  description = "Set to false to plan nothing."
  type        = bool
  default     = true
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the pipeline."
  type        = string
  default     = "orders"
}

variable "package_path" {
  description = "The zip with stream_pipeline and my_team (scripts/package.py --add)."
  type        = string
  default     = "build/lambda.zip"
}

variable "orders_table_name" {
  description = "The team's existing orders table (partition key order_id, a string)."
  type        = string
  default     = "orders"
}

variable "orders_table_arn" {
  description = "Its ARN, for the one extra permission the processor needs."
  type        = string
  default     = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
}

variable "alarm_emails" {
  description = "Who gets the alarms."
  type        = list(string)
  default     = []
}
