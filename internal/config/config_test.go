package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newFlags() (*flag.FlagSet, *string, *string, *int, *string) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.String(FileFlag, "", "config file")
	addr := fs.String("http.addr", ":8080", "listen address")
	driver := fs.String("db.driver", "sqlite", "driver")
	conns := fs.Int("db.max-open-conns", 10, "pool")
	secret := fs.String("auth.secret", "", "jwt secret")
	return fs, addr, driver, conns, secret
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("http:\n  addr: ':9000'\ndb:\n  driver: mysql\n  max-open-conns: 50\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, addr, driver, conns, secret := newFlags()
	env := envOf(map[string]string{"DOUYIN_DB_DRIVER": "sqlite-from-env", "DOUYIN_AUTH_SECRET": "s3"})
	if err := Load(fs, []string{"-config.file", file, "-db.max-open-conns", "7"}, env, []string{"auth.secret"}); err != nil {
		t.Fatal(err)
	}
	if *addr != ":9000" {
		t.Errorf("file should override default: addr=%q", *addr)
	}
	if *driver != "sqlite-from-env" {
		t.Errorf("env should override file: driver=%q", *driver)
	}
	if *conns != 7 {
		t.Errorf("flag should override file: conns=%d", *conns)
	}
	if *secret != "s3" {
		t.Errorf("secret from env: %q", *secret)
	}
	out := Print(fs, []string{"auth.secret"})
	if strings.Contains(out, "s3") || !strings.Contains(out, "# auth.secret: secret (set), only from $DOUYIN_AUTH_SECRET") {
		t.Errorf("Print leaks the secret or hides where it comes from:\n%s", out)
	}
	// What Print writes is a config file Load takes back.
	printed := filepath.Join(t.TempDir(), "printed.yaml")
	if err := os.WriteFile(printed, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	again, addr2, driver2, conns2, _ := newFlags()
	if err := Load(again, []string{"-config.file", printed}, envOf(nil), []string{"auth.secret"}); err != nil {
		t.Fatalf("Load(Print output): %v\n%s", err, out)
	}
	if *addr2 != *addr || *driver2 != *driver || *conns2 != *conns {
		t.Errorf("round trip changed values: %s %s %d", *addr2, *driver2, *conns2)
	}
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string][]string{
		"unknown key":      {"-config.file", write("u.yaml", "db:\n  drivr: mysql\n")},
		"secret in file":   {"-config.file", write("s.yaml", "auth:\n  secret: x\n")},
		"secret as flag":   {"-auth.secret", "x"},
		"bad value":        {"-config.file", write("b.yaml", "db:\n  max-open-conns: many\n")},
		"missing file":     {"-config.file", filepath.Join(dir, "absent.yaml")},
		"unknown cli flag": {"-nope", "1"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			fs, _, _, _, _ := newFlags()
			fs.SetOutput(new(strings.Builder))
			if err := Load(fs, args, envOf(nil), []string{"auth.secret"}); err == nil {
				t.Fatalf("Load(%v) succeeded, want an error", args)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("db.max-open-conns"); got != "DOUYIN_DB_MAX_OPEN_CONNS" {
		t.Fatalf("EnvName = %q", got)
	}
}
