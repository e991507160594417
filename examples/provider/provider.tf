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
