package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Startup is the provider's start-up as the CLI sees it, medians over runs.
type Startup struct {
	// Serve is exec to the go-plugin handshake line: the plugin listens.
	Serve time.Duration
	// Schema is exec to the answer of GetProviderSchema, the first call every
	// CLI command makes.
	Schema time.Duration
	// SchemaMin is the fastest launch: the start-up with the least
	// interference from other work on the machine.
	SchemaMin   time.Duration
	SchemaBytes int
	Runs        int
}

// The go-plugin handshake of protocol 6 providers (terraform-plugin-go's
// tf6server): the CLI sets the magic cookie and the protocol versions it
// speaks.
const (
	magicCookieKey   = "TF_PLUGIN_MAGIC_COOKIE"
	magicCookieValue = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
)

// measureStartup launches the plugin runs times as the CLI does and times it
// to the handshake and to GetProviderSchema's answer.
func measureStartup(ctx context.Context, exe string, runs int) (Startup, error) {
	var serve, schema []time.Duration
	size := 0
	for range runs {
		s, sc, n, err := startOnce(ctx, exe)
		if err != nil {
			return Startup{}, err
		}
		serve, schema, size = append(serve, s), append(schema, sc), n
	}
	return Startup{Serve: medianDur(serve), Schema: medianDur(schema), SchemaMin: slices.Min(schema), SchemaBytes: size, Runs: runs}, nil
}

func startOnce(ctx context.Context, exe string) (serve, schema time.Duration, size int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), magicCookieKey+"="+magicCookieValue, "PLUGIN_PROTOCOL_VERSIONS=6")
	cmd.Stderr = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return 0, 0, 0, fmt.Errorf("reading the plugin's handshake: %w", err)
	}
	serve = time.Since(start)
	// core-version|app-version|network|address|protocol|cert
	parts := strings.Split(strings.TrimSpace(line), "|")
	if len(parts) < 5 || parts[1] != "6" || parts[4] != "grpc" {
		_ = cmd.Process.Kill()
		return 0, 0, 0, fmt.Errorf("unexpected handshake %q", line)
	}
	target := parts[3]
	if parts[2] == "unix" {
		target = "unix://" + target
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		_ = cmd.Process.Kill()
		return 0, 0, 0, err
	}
	defer conn.Close()
	var resp []byte
	if err := conn.Invoke(ctx, "/tfplugin6.Provider/GetProviderSchema", []byte{}, &resp); err != nil {
		_ = cmd.Process.Kill()
		return 0, 0, 0, fmt.Errorf("GetProviderSchema: %w", err)
	}
	schema = time.Since(start)
	var empty []byte
	if err := conn.Invoke(ctx, "/plugin.GRPCController/Shutdown", []byte{}, &empty); err != nil {
		_ = cmd.Process.Kill()
	}
	return serve, schema, len(resp), nil
}

// rawCodec sends and receives protobuf bytes as they are: the benchmark
// needs no generated types to time a call.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*p = slices.Clone(data)
	return nil
}

func (rawCodec) Name() string { return "proto" }

func medianDur(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
