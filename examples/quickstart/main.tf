# Quick start: write a key into the local dotenv store and read it back.
#   terraform init && terraform apply -var openai_api_key=sk-...
terraform {
  required_providers {
    llmsecret = {
      source  = "llmsecret/llmsecret"
      version = "~> 0.1"
    }
  }
}

variable "openai_api_key" {
  type      = string
  sensitive = true
}

variable "env_file" {
  type    = string
  default = ".env"
}

provider "llmsecret" {
  key_management_settings = {
    access_mode = "read_and_write"
  }
  local = {
    env_file = var.env_file
  }
}

resource "llmsecret_secret" "openai" {
  name             = "OPENAI_API_KEY"
  value_wo         = var.openai_api_key
  value_wo_version = 1
}

data "llmsecret_secret" "openai" {
  name       = llmsecret_secret.openai.name
  depends_on = [llmsecret_secret.openai]
}

output "full_name" {
  value = llmsecret_secret.openai.full_name
}

# True when the value read back through the data source is the one written;
# the value itself is never printed.
output "round_trip_ok" {
  value = nonsensitive(data.llmsecret_secret.openai.value == var.openai_api_key)
}
