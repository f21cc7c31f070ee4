output "enabled" {
  description = "Whether the module creates resources."
  value       = var.enabled
}
