# Read a key for this run only: it is never written to state or plan files.
ephemeral "llmsecret_secret" "anthropic" {
  name = "ANTHROPIC_API_KEY"
}

# Hand it to a write-only argument of another resource.
resource "llmsecret_secret" "anthropic_copy" {
  name             = "ANTHROPIC_API_KEY_COPY"
  value_wo         = ephemeral.llmsecret_secret.anthropic.value
  value_wo_version = 1
}
