# Fragment: provider blocks for two configurations (used with required_providers as in Getting started).
# The embedded default store: a dotenv file beside the configuration.
provider "llmsecret" {
  key_management_system = "local"
  key_management_settings = {
    access_mode = "read_and_write"
    tags        = { managed_by = "terraform" }
  }
  local = {
    env_file = ".env"
  }
}

# LiteLLM's virtual keys under a prefix, on a second provider instance.
provider "llmsecret" {
  alias = "virtual_keys"
  key_management_settings = {
    access_mode                    = "read_and_write"
    store_virtual_keys             = true
    prefix_for_stored_virtual_keys = "litellm/"
  }
}

variable "team_virtual_key" {
  type      = string
  sensitive = true
}

# Only objects marked virtual_key get the prefix: this one is stored as
# litellm/team-a, where LiteLLM keeps the virtual keys it stores. Any other
# name (OPENAI_API_KEY) is stored bare, where LiteLLM's get_secret reads it.
resource "llmsecret_secret" "team_a" {
  provider         = llmsecret.virtual_keys
  name             = "team-a"
  virtual_key      = true
  value_wo         = var.team_virtual_key
  value_wo_version = 1
}
