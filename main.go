// Command terraform-provider-llmsecret serves the llmsecret provider to
// Terraform and OpenTofu over plugin protocol 6.
package main

import (
	"flag"
	"log"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/plugin"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/provider"
)

// version is set by goreleaser at build time.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := plugin.Serve("registry.terraform.io/llmsecret/llmsecret", provider.New(version), debug)
	// The CLI has shut the plugin down: revoke login tokens and close
	// connections before the process ends.
	provider.CloseStores()
	if err != nil {
		log.Fatal(err.Error())
	}
}
