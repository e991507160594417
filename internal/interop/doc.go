// Package interop holds the tests in which LiteLLM itself (pinned, from PyPI,
// a test client only: see litellmtest) reads what the provider wrote, and the
// provider reads what LiteLLM wrote, store by store, through the real CLIs.
// The rule they prove: the name and the settings a user gives are exactly
// what LiteLLM uses.
//
// They run only with TF_ACC=1 and TF_ACC_TERRAFORM_PATH set (make testacc).
package interop
