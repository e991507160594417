data "llmsecret_secret" "anthropic" {
  name = "ANTHROPIC_API_KEY"
}

output "anthropic_key_version" {
  value = data.llmsecret_secret.anthropic.version
}
