package awssm_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
)

// moto is the endpoint of the moto server the package's tests share (names
// are unique per test). It is installed by scripts/moto.sh when missing; a
// server that cannot start fails the run.
var moto string

func TestMain(m *testing.M) {
	if os.Getenv(casEndpointEnv) != "" { // a writer child: its parent's server
		os.Exit(m.Run())
	}
	endpoint, stop, err := awstest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "awssm tests need moto:", err)
		os.Exit(1)
	}
	moto = endpoint
	code := m.Run()
	stop()
	os.Exit(code)
}
