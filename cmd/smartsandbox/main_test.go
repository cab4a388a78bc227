package main_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/smartcheck"
)

// TestCommand runs the command as a user does: it builds lambda/introspect,
// prints a smartcheck command line that passes, and cleans up on interrupt.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	bin := filepath.Join(t.TempDir(), "smartsandbox")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--smart-version", "v1", "--validation", "introspection")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // in case a check below fails first

	var printed []string
	var checkLine string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		printed = append(printed, line)
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "go run ./cmd/smartcheck ") {
			checkLine = strings.TrimPrefix(l, "go run ./cmd/smartcheck ")
			break
		}
	}
	if checkLine == "" {
		t.Fatalf("no smartcheck command line in\n%s\nstderr: %s", strings.Join(printed, "\n"), stderr.String())
	}
	if !strings.Contains(printed[0], "v1 data store, introspection validation") {
		t.Errorf("first line %q, want the flags' data store and validation", printed[0])
	}

	t.Run("the printed smartcheck command line passes", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := smartcheck.Main(ctx, strings.Fields(checkLine), &out, &errOut); code != smartcheck.ExitOK {
			t.Errorf("exit %d\n%s%s", code, out.String(), errOut.String())
		}
	})

	t.Run("an interrupt stops it and removes its files", func(t *testing.T) {
		fields := strings.Fields(checkLine)
		var keyFile string
		for i, f := range fields {
			if f == "--private-key" {
				keyFile = fields[i+1]
			}
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit: %v, stderr %s", err, stderr.String())
		}
		if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
			t.Errorf("the client key %s is still there (%v)", keyFile, err)
		}
	})
}

// TestCommandEHRLaunch runs the command with --ehr-launch: the printed
// smartcheck command line, with the EHR role's credentials file it names,
// passes the ehr-launch check too.
func TestCommandEHRLaunch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	bin := filepath.Join(t.TempDir(), "smartsandbox")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--ehr-launch")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()

	var printed []string
	var env, checkLine string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		printed = append(printed, line)
		if before, after, ok := strings.Cut(strings.TrimSpace(line), "go run ./cmd/smartcheck "); ok {
			env, checkLine = before, after
			break
		}
	}
	if checkLine == "" {
		t.Fatalf("no smartcheck command line in\n%s\nstderr: %s", strings.Join(printed, "\n"), stderr.String())
	}
	if !strings.Contains(strings.Join(printed, "\n"), "EHR launch API ") {
		t.Errorf("the EHR launch API is not among the endpoints printed:\n%s", strings.Join(printed, "\n"))
	}
	// Credentials in the environment that are not the EHR role's: the
	// printed --profile must win over them.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIANOTTHEEHRROLE000")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, kv := range strings.Fields(env) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code := smartcheck.Main(ctx, strings.Fields(checkLine), &out, &errOut)
	if code != smartcheck.ExitOK || !strings.Contains(out.String(), "PASS  "+smartcheck.CheckEHRLaunch) {
		t.Errorf("exit %d, want 0 with the ehr-launch check passed\n%s%s", code, out.String(), errOut.String())
	}
}
