package awssm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
)

// Environment of a TestHelperProcessPrimaryWriter child.
const (
	casEndpointEnv = "LLMSECRET_AWSSM_CAS_ENDPOINT"
	casPrimaryEnv  = "LLMSECRET_AWSSM_CAS_PRIMARY"
	casIDEnv       = "LLMSECRET_AWSSM_CAS_ID"
	casFields      = 100
)

// TestPrimaryTwoProcesses: two OS processes (copies of this test binary,
// each its own provider store) write 100 distinct fields each, in parallel,
// into one primary secret on one Secrets Manager: all 200 are there at the
// end, next to the field written before. Within a process the layer
// group-commits; across processes only the compare-and-set of PutIf keeps
// one process's commit from overwriting the other's.
func TestPrimaryTwoProcesses(t *testing.T) {
	f := newFixture(t, nil)
	primary := f.name("primary")
	if _, err := f.sm.CreateSecret(f.ctx, &secretsmanager.CreateSecretInput{Name: aws.String(primary), SecretString: aws.String(`{"EXISTING":"1"}`)}); err != nil {
		t.Fatal(err)
	}
	type child struct {
		cmd *exec.Cmd
		out bytes.Buffer
	}
	children := make([]*child, 2)
	for i := range children {
		c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestHelperProcessPrimaryWriter$", "-test.count=1")}
		c.cmd.Env = append(os.Environ(), casEndpointEnv+"="+moto, casPrimaryEnv+"="+primary, casIDEnv+"="+strconv.Itoa(i))
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	for i, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v\n%s", i, err, c.out.String())
		}
	}
	v, err := f.sm.GetSecretValue(f.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(primary), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(v.SecretString)), &fields); err != nil {
		t.Fatalf("primary secret is not a JSON object of strings: %v", err)
	}
	want := map[string]string{"EXISTING": "1"}
	for i := range children {
		for j := range casFields {
			want[casField(i, j)] = casValue(i, j)
		}
	}
	lost := 0
	for k, w := range want {
		if fields[k] != w {
			lost++
		}
	}
	if lost > 0 || len(fields) != len(want) {
		t.Errorf("primary secret after 2 processes x %d fields: %d fields, %d of %d lost or wrong", casFields, len(fields), lost, len(want))
	}
	// Whoever lost a round left no pending label on the current version.
	d, err := f.sm.DescribeSecret(f.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(primary)})
	if err != nil {
		t.Fatal(err)
	}
	if st := d.VersionIdsToStages[aws.ToString(v.VersionId)]; len(st) != 1 {
		t.Errorf("stages of the current version: %v, want only AWSCURRENT", st)
	}
}

func casField(proc, i int) string { return fmt.Sprintf("P%d_FIELD_%03d", proc, i) }
func casValue(proc, i int) string { return fmt.Sprintf("sk-%d-%03d", proc, i) }

// TestHelperProcessPrimaryWriter is a child of TestPrimaryTwoProcesses: it
// writes its 100 fields in parallel. It does nothing in a normal run.
func TestHelperProcessPrimaryWriter(t *testing.T) {
	endpoint, primary := os.Getenv(casEndpointEnv), os.Getenv(casPrimaryEnv)
	if endpoint == "" {
		return
	}
	id, err := strconv.Atoi(os.Getenv(casIDEnv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := awssm.New(ctx, &awssm.Options{AWS: awstest.Options(endpoint)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make([]error, casFields)
	for j := range casFields {
		wg.Go(func() {
			_, errs[j] = s.Write(ctx, backends.WriteRequest{Name: casField(id, j), Value: []byte(casValue(id, j))})
		})
	}
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			t.Errorf("Write(%s): %v", casField(id, j), err)
		}
	}
}

// TestPutIfStaleVersion: a write conditional on a version that is no longer
// current (another writer committed in between) changes nothing readers
// see, reports a lost race, and leaves no pending label; one on the current
// version goes through.
func TestPutIfStaleVersion(t *testing.T) {
	f := newFixture(t, nil)
	name := f.name("cas")
	first, err := f.sm.CreateSecret(f.ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	cas, ok := f.b.(backends.CASWriter)
	if !ok {
		t.Fatal("the aws_secret_manager backend is not a CASWriter")
	}
	second, err := cas.PutIf(f.ctx, backends.WriteRequest{Name: name, Value: []byte("v2")}, aws.ToString(first.VersionId))
	if err != nil {
		t.Fatalf("PutIf on the current version: %v", err)
	}
	_, err = cas.PutIf(f.ctx, backends.WriteRequest{Name: name, Value: []byte("v3")}, aws.ToString(first.VersionId))
	if !backends.IsVersionChanged(err) {
		t.Errorf("PutIf on a stale version: got %v, want a lost compare-and-set", err)
	}
	_, err = cas.PutIf(f.ctx, backends.WriteRequest{Name: name, Value: []byte("v3")}, "")
	if !backends.IsVersionChanged(err) {
		t.Errorf("PutIf expecting no secret on an existing one: got %v, want a lost compare-and-set", err)
	}
	sec, err := f.b.Get(f.ctx, name)
	if err != nil || string(sec.Value) != "v2" || sec.Version != second {
		t.Errorf("Get after the lost writes: got %v, %v; want v2 at version %s", sec, err, second)
	}
	d, err := f.sm.DescribeSecret(f.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range d.VersionIdsToStages {
		for _, s := range st {
			if s == "LLMSECRET_PENDING" {
				t.Errorf("version %s keeps the pending label: %v", id, st)
			}
		}
	}
}
