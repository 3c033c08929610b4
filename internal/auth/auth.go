// Package auth issues and verifies the app's tokens: HMAC-signed JWTs with an expiry,
// URL-safe because the app sends them in query strings.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/douyin-backend/douyin/internal/cache"
)

// SecretFlag names the secret's setting; it is accepted only from the environment.
const SecretFlag = "auth.secret"

const issuer = "douyin"

// ErrInvalidToken covers malformed, forged and expired tokens alike.
var ErrInvalidToken = errors.New("invalid or expired token")

// Config holds the signing settings.
type Config struct {
	Secret     string
	SecretFile string
	TokenTTL   time.Duration
}

// RegisterFlags registers the auth settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Secret, SecretFlag, "", "HMAC key signing tokens (environment only; at least 32 bytes)")
	fs.StringVar(&c.SecretFile, "auth.secret-file", "", "file holding the HMAC key; in the embedded mode a random key is created at <data.dir>/jwt.key when neither is set")
	fs.DurationVar(&c.TokenTTL, "auth.token-ttl", 7*24*time.Hour, "token lifetime")
}

// Resolve returns the signing key. Outside the embedded mode a key must be configured; in the
// embedded mode a random key is generated once and kept in dataDir so tokens survive restarts.
func (c *Config) Resolve(embedded bool, dataDir string) ([]byte, error) {
	if c.TokenTTL <= 0 {
		return nil, fmt.Errorf("auth.token-ttl must be positive")
	}
	key := c.Secret
	if key == "" && c.SecretFile != "" {
		raw, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("read auth.secret-file: %w", err)
		}
		key = strings.TrimSpace(string(raw))
	}
	if key == "" {
		if !embedded {
			return nil, fmt.Errorf("set DOUYIN_AUTH_SECRET or auth.secret-file: a generated key is only allowed in the embedded mode")
		}
		return embeddedKey(filepath.Join(dataDir, "jwt.key"))
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("the token signing key must be at least 32 bytes")
	}
	return []byte(key), nil
}

func embeddedKey(path string) ([]byte, error) {
	if raw, err := os.ReadFile(path); err == nil && len(raw) >= 32 {
		return raw, nil
	}
	buf := make([]byte, 48)
	if _, err := rand.Read(buf); err != nil {
		return nil, err
	}
	key := []byte(base64.RawURLEncoding.EncodeToString(buf))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("write token key: %w", err)
	}
	return key, nil
}

// Tokens signs and verifies tokens.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time

	// verified remembers tokens already verified (token → user and expiry): the app sends its
	// token with every request, and decoding the claims cost a fifth of an idle chat poll.
	// Tokens cannot be revoked before they expire, so a remembered answer is the answer.
	mu       sync.Mutex
	verified *cache.Bounded[string, verifiedToken]
}

type verifiedToken struct {
	userID  int64
	expires time.Time
}

const (
	// maxVerifiedTokens bounds the remembered tokens (about 30 MB at most).
	maxVerifiedTokens = 100_000
	// verifiedFor is how long a verification is remembered (never past the token's expiry).
	verifiedFor = 10 * time.Minute
)

// NewTokens returns a signer using key.
func NewTokens(key []byte, ttl time.Duration) *Tokens {
	t := &Tokens{key: key, ttl: ttl, now: time.Now, verified: cache.NewBounded[string, verifiedToken](maxVerifiedTokens)}
	// Remembered tokens expire by the same clock that checks the tokens themselves.
	t.verified.SetClock(func() time.Time { return t.now() })
	return t
}

// Issue returns a token for userID.
func (t *Tokens) Issue(userID int64) (string, error) {
	now := t.now()
	claims := jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   strconv.FormatInt(userID, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
}

// Verify returns the user id of a valid token.
func (t *Tokens) Verify(token string) (int64, error) {
	now := t.now()
	t.mu.Lock()
	known, ok := t.verified.GetAt(token, now)
	t.mu.Unlock()
	if ok && now.Before(known.expires) {
		return known.userID, nil
	}
	id, expires, err := t.parse(token)
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	t.verified.Put(token, verifiedToken{userID: id, expires: expires}, min(verifiedFor, expires.Sub(now)))
	t.mu.Unlock()
	return id, nil
}

// parse checks a token's signature, issuer and expiry and returns its user and expiry.
func (t *Tokens) parse(token string) (int64, time.Time, error) {
	var claims jwt.RegisteredClaims
	parsed, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || !parsed.Valid {
		return 0, time.Time{}, ErrInvalidToken
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, time.Time{}, ErrInvalidToken
	}
	return id, claims.ExpiresAt.Time, nil
}
