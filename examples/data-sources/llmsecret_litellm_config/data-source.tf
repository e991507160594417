# The LiteLLM proxy's side of this provider configuration: its config.yaml's
# general_settings, the variables its reader takes, and the reference of each
# secret. No secret value is read.
data "llmsecret_litellm_config" "proxy" {
  secret_names = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]
}

# general_settings for the proxy's config.yaml.
output "litellm_general_settings" {
  value = data.llmsecret_litellm_config.proxy.general_settings_yaml
}

# Names of the variables the proxy needs (values are never shown).
output "litellm_environment" {
  value = data.llmsecret_litellm_config.proxy.environment_variables
}

# What to write in model_list, e.g. api_key: os.environ/OPENAI_API_KEY.
output "openai_api_key_reference" {
  value = data.llmsecret_litellm_config.proxy.references["OPENAI_API_KEY"]
}
