# Every secret of the configured store whose name starts with OPENAI_, for
# `terraform query` (Terraform 1.14+). Add -generate-config-out=adopted.tf to
# write the resource and import blocks that adopt them.
list "llmsecret_secret" "openai" {
  provider         = llmsecret
  include_resource = true

  config {
    prefix = "OPENAI_"
  }
}
