package auth

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestTokens(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	tok := NewTokens(key, time.Hour)
	s, err := tok.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._~-]+$`).MatchString(s) {
		t.Fatalf("token is not URL-safe: %q", s)
	}
	if id, err := tok.Verify(context.Background(), s); err != nil || id != 42 {
		t.Fatalf("Verify = %d, %v", id, err)
	}
	other := NewTokens([]byte(strings.Repeat("x", 32)), time.Hour)
	if _, err := other.Verify(context.Background(), s); err == nil {
		t.Fatal("token verified with another key")
	}
	for _, bad := range []string{"", "garbage", s + "x", s[:len(s)-3]} {
		if _, err := tok.Verify(context.Background(), bad); err == nil {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
	later := NewTokens(key, time.Hour)
	later.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := later.Verify(context.Background(), s); err == nil {
		t.Fatal("expired token accepted")
	}
}

func TestResolveKey(t *testing.T) {
	dir := t.TempDir()
	c := Config{TokenTTL: time.Hour}
	if _, err := c.Resolve(false, dir); err == nil {
		t.Fatal("production mode accepted a missing secret")
	}
	k1, err := c.Resolve(true, dir)
	if err != nil || len(k1) < 32 {
		t.Fatalf("embedded key: %q %v", k1, err)
	}
	k2, _ := c.Resolve(true, dir)
	if string(k1) != string(k2) {
		t.Fatal("embedded key changed between starts: tokens would not survive a restart")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "jwt.key")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	c.Secret = "short"
	if _, err := c.Resolve(false, dir); err == nil {
		t.Fatal("short secret accepted")
	}
	c.Secret = ""
	c.SecretFile = filepath.Join(dir, "secret")
	os.WriteFile(c.SecretFile, []byte(strings.Repeat("s", 40)+"\n"), 0o600)
	if k, err := c.Resolve(false, dir); err != nil || string(k) != strings.Repeat("s", 40) {
		t.Fatalf("secret file: %q %v", k, err)
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("secret1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2") {
		t.Fatalf("not bcrypt: %q", h)
	}
	if !CheckPassword(h, "secret1") || CheckPassword(h, "secret2") || CheckPassword("", "secret1") {
		t.Fatal("CheckPassword mismatch")
	}
}

func TestDummyHashCostsAsMuchAsARealOne(t *testing.T) {
	if cost, err := bcrypt.Cost([]byte(dummyHash)); err != nil || cost != bcrypt.DefaultCost {
		t.Fatalf("dummy hash cost %d, %v: unknown-user logins would be faster than wrong-password ones", cost, err)
	}
}

// A verified token is remembered, but never past its expiry, and a forged one never is.
func TestVerifyRemembersOnlyValidTokensUntilTheyExpire(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	now := time.Now()
	tok := NewTokens(key, time.Hour)
	tok.now = func() time.Time { return now }
	s, err := tok.Issue(7)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if id, err := tok.Verify(context.Background(), s); err != nil || id != 7 {
			t.Fatalf("Verify = %d, %v", id, err)
		}
	}
	if tok.verified.Len() != 1 {
		t.Fatalf("%d tokens remembered, want 1", tok.verified.Len())
	}
	if _, err := tok.Verify(context.Background(), s+"x"); err == nil {
		t.Fatal("a forged token was accepted")
	}
	if tok.verified.Len() != 1 {
		t.Fatal("a forged token was remembered")
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := tok.Verify(context.Background(), s); err == nil {
		t.Fatal("an expired token was accepted from memory")
	}
}
