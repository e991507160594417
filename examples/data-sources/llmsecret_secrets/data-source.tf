data "llmsecret_secrets" "gateway" {
  names = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]
}

output "gateway_key_names" {
  value = keys(data.llmsecret_secrets.gateway.full_names)
}
