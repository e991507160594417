package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// cliDiagnostic is one diagnostic of the CLI's -json output.
type cliDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Address  string `json:"address"`
}

// cliRun runs the CLI of TF_ACC_TERRAFORM_PATH (Terraform or OpenTofu) on
// config against the provider served in this process. terraform-plugin-testing
// does not show a step's warnings, so a test of what a user sees in a plan
// runs the CLI itself. The returned function runs one CLI command (with
// -json added by the caller where wanted) and returns its diagnostics.
func cliRun(t *testing.T, config string) func(args ...string) []cliDiagnostic {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	testAccPreCheck(t)
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	const addr = "registry.terraform.io/llmsecret/llmsecret"
	go func() {
		_ = tf6server.Serve(addr, providerserver.NewProtocol6(New("test")()), tf6server.WithDebug(ctx, reattach, closed),
			tf6server.WithLoggingSink(t), tf6server.WithGoPluginLogger(hclog.NewNullLogger()))
	}()
	rc := <-reattach
	t.Cleanup(func() { cancel(); <-closed })
	info := map[string]any{"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()}}
	env, err := json.Marshal(map[string]any{addr: info, "registry.opentofu.org/llmsecret/llmsecret": info})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	main := "terraform {\n  required_providers {\n    llmsecret = { source = \"llmsecret/llmsecret\" }\n  }\n}\n" + config
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) []cliDiagnostic {
		t.Helper()
		cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(env), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return cliDiagnostics(stdout.Bytes())
	}
}

// cliDiagnostics are the diagnostics of the CLI's -json output.
func cliDiagnostics(out []byte) []cliDiagnostic {
	var diags []cliDiagnostic
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var line struct {
			Type       string        `json:"type"`
			Diagnostic cliDiagnostic `json:"diagnostic"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Type == "diagnostic" {
			diags = append(diags, line.Diagnostic)
		}
	}
	return diags
}

// notKept is the diagnostics of diags that say the store keeps no metadata.
func notKept(diags []cliDiagnostic) []cliDiagnostic {
	var got []cliDiagnostic
	for _, d := range diags {
		if d.Summary == "Not kept by the store" {
			got = append(got, d)
		}
	}
	return got
}

// TestAccSecretResource_metadataNotKeptLocal: the local dotenv file keeps no
// description or tags. Through the real CLI, a plan that sets them warns on
// each (the aws provider's way with what a store cannot carry) instead of
// dropping them silently; the apply still succeeds and keeps them in state; a
// plan that leaves them unchanged, or a store default alone, does not warn.
func TestAccSecretResource_metadataNotKeptLocal(t *testing.T) {
	path := envFile(t)
	secret := func(meta string) string {
		return providerConfig(path, readWrite+"\n    tags = { env = \"prod\" }") + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = "OPENAI_API_KEY"
  value_wo         = "sk-meta-0001"
  value_wo_version = 1
  %s
}
`, meta)
	}
	run := cliRun(t, secret(`description = "OpenAI key"
  tags        = { team = "ml" }`))
	run("init", "-input=false", "-no-color")
	got := notKept(run("plan", "-input=false", "-json"))
	if len(got) != 2 || got[0].Severity != "warning" || got[1].Severity != "warning" {
		t.Fatalf("plan with description and tags on the local store: got %+v, want two warnings", got)
	}
	for _, d := range got {
		if !strings.Contains(d.Detail, "secret (OPENAI_API_KEY) in local") || !strings.Contains(d.Detail, "state only") {
			t.Errorf("warning detail %q does not name the secret, the store and where the value stays", d.Detail)
		}
	}
	run("apply", "-input=false", "-auto-approve", "-json")
	if got := notKept(run("plan", "-input=false", "-json")); len(got) != 0 {
		t.Errorf("plan without a change warned again: %+v", got)
	}
	if stored := storedValue(t, path, "OPENAI_API_KEY"); stored != "sk-meta-0001" {
		t.Errorf("stored %q, want the value written despite the warning", stored)
	}
	run("destroy", "-input=false", "-auto-approve", "-json")
}

// TestMetadataNotKeptWarning: on the local store, a create that sets the
// resource's own description or tags warns on that attribute, and one that
// sets neither does not (the provider's default tags alone never warn).
func TestMetadataNotKeptWarning(t *testing.T) {
	h := newProtoHarness(t, filepath.Join(t.TempDir(), ".env"))
	plan := func(set map[string]tftypes.Value) []*tfprotov6.Diagnostic {
		set["name"] = tftypes.NewValue(tftypes.String, "A_KEY")
		set["value_wo"] = tftypes.NewValue(tftypes.String, "sk-a")
		set["value_wo_version"] = tftypes.NewValue(tftypes.Number, 1)
		config := dynamic(t, nullsExcept(h.resource, set))
		resp, err := h.srv.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
			TypeName: "llmsecret_secret", PriorState: dynamic(t, tftypes.NewValue(h.resource, nil)),
			ProposedNewState: config, Config: config,
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []*tfprotov6.Diagnostic
		for _, d := range resp.Diagnostics {
			if d.Summary == "Not kept by the store" {
				got = append(got, d)
			}
		}
		return got
	}
	tags := tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"team": tftypes.NewValue(tftypes.String, "ml")})
	got := plan(map[string]tftypes.Value{"tags": tags})
	if len(got) != 1 || got[0].Severity != tfprotov6.DiagnosticSeverityWarning ||
		got[0].Attribute.String() != tftypes.NewAttributePath().WithAttributeName("tags").String() {
		t.Fatalf("tags on the local store: got %s, want one warning on tags", diagText(got))
	}
	if got := plan(map[string]tftypes.Value{}); len(got) != 0 {
		t.Fatalf("no description or tags: got %s, want no warning", diagText(got))
	}
}
