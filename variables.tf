variable "enabled" {
  description = "Set to false to create no resources at all."
  type        = bool
  default     = true
  nullable    = false
}
