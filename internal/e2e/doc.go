// Package e2e holds end-to-end tests that drive the real Terraform or OpenTofu
// binary (os/exec, no terraform-exec, no in-process provider server) against a
// provider binary built from this module and wired in with dev_overrides.
//
// They complement the acceptance tests in internal/provider, which serve the
// provider in process through terraform-plugin-testing: here everything goes
// through the CLI exactly as a user runs it, so we can inspect what a user
// would see and keep: the full TF_LOG=TRACE output of the CLI and of the
// provider plugin, state files and their backups, and the examples/ shipped in
// the docs.
//
// The tests run only with TF_ACC=1 and TF_ACC_TERRAFORM_PATH set; use
// `make testacc-terraform` or `make testacc-tofu`. This file exists so the
// package has a non-test file (and thus a package comment for go doc).
package e2e
