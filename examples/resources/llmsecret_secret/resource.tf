variable "openai_api_key" {
  type      = string
  sensitive = true
}

# Write-only: the key never lands in state or plan output.
resource "llmsecret_secret" "openai" {
  name             = "OPENAI_API_KEY"
  value_wo         = var.openai_api_key
  value_wo_version = 1 # bump to write a new value
  description      = "OpenAI key for the gateway"
  tags             = { owner = "platform" }
}
