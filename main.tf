# The root module composes modules/stream, modules/consumer, modules/dashboard and modules/alarms.
# They arrive with the Terraform modules issue; until then the root declares nothing.
