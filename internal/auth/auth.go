// Package auth issues and verifies the app's tokens: HMAC-signed JWTs with an expiry,
// URL-safe because the app sends them in query strings.
package auth

import (
	"context"
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
	// PasswordCost is the bcrypt cost of new password hashes.
	PasswordCost int
}

// RegisterFlags registers the auth settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Secret, SecretFlag, "", "HMAC key signing tokens (environment only; at least 32 bytes)")
	fs.StringVar(&c.SecretFile, "auth.secret-file", "", "file holding the HMAC key; in the embedded mode a random key is created at <data.dir>/jwt.key when neither is set")
	fs.DurationVar(&c.TokenTTL, "auth.token-ttl", 7*24*time.Hour, "token lifetime")
	fs.IntVar(&c.PasswordCost, "auth.password-cost", PasswordCost, "bcrypt cost of new password hashes (10-16; each step doubles the time of a sign-up and a login check)")
}

// Validate checks the settings that do not need the key.
func (c *Config) Validate() error {
	if c.PasswordCost < 10 || c.PasswordCost > 16 {
		return fmt.Errorf("auth.password-cost must be between 10 and 16")
	}
	return nil
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

	// verified remembers tokens already verified (token → user, issue time and expiry): the
	// app sends its token with every request, and decoding the claims cost a fifth of an idle
	// chat poll. Revocations are checked on every request all the same.
	mu       sync.RWMutex
	verified *cache.Bounded[string, verifiedToken]

	revoked RevocationStore // nil: tokens cannot be revoked
}

type verifiedToken struct {
	userID  int64
	issued  time.Time
	expires time.Time
	// revocationKeys are the keys of its user's and its own revocation, hashed once here
	// rather than on every request.
	revocationKeys [2]string
}

// tokenClaims are the registered claims plus the issue time in milliseconds: a revocation of
// all of a user's tokens must not also catch a token issued in the same second after it.
type tokenClaims struct {
	jwt.RegisteredClaims
	IssuedMillis int64 `json:"ims,omitempty"`
}

const (
	// maxVerifiedTokens bounds the remembered tokens (about 30 MB at most).
	maxVerifiedTokens = 100_000
	// verifiedFor is how long a verification is remembered (never past the token's expiry).
	verifiedFor = 10 * time.Minute
)

// Option configures Tokens.
type Option func(*Tokens)

// WithRevocations makes tokens revocable, one at a time (Revoke) or all of a user's
// (RevokeUser), through store.
func WithRevocations(store RevocationStore) Option { return func(t *Tokens) { t.revoked = store } }

// NewTokens returns a signer using key.
func NewTokens(key []byte, ttl time.Duration, opts ...Option) *Tokens {
	t := &Tokens{key: key, ttl: ttl, now: time.Now, verified: cache.NewBounded[string, verifiedToken](maxVerifiedTokens)}
	for _, o := range opts {
		o(t)
	}
	// Remembered tokens expire by the same clock that checks the tokens themselves.
	t.verified.SetClock(func() time.Time { return t.now() })
	return t
}

// Sizes reports the remembered verifications, and the remembered revocation reads when the
// revocation store keeps them in this process, against their bounds.
func (t *Tokens) Sizes() []cache.Size {
	t.mu.RLock()
	sizes := []cache.Size{{Name: "auth:verified", Entries: t.verified.Len(), MaxEntries: t.verified.Cap()}}
	t.mu.RUnlock()
	if s, ok := t.revoked.(cache.Sized); ok {
		sizes = append(sizes, s.Sizes()...)
	}
	return sizes
}

// Issue returns a token for userID.
func (t *Tokens) Issue(userID int64) (string, error) {
	now := t.now()
	// A random id: two logins in one millisecond still get tokens that are revoked apart.
	var id [9]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        base64.RawURLEncoding.EncodeToString(id[:]),
			Issuer:    issuer,
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
		IssuedMillis: now.UnixMilli(),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
}

// Verify returns the user id of a valid token: well signed, not expired, not revoked. It
// fails with ErrInvalidToken, or ErrRevocationUnavailable when revocations cannot be read.
func (t *Tokens) Verify(ctx context.Context, token string) (int64, error) {
	known, err := t.verify(token)
	if err != nil {
		return 0, err
	}
	if t.revoked == nil {
		return known.userID, nil
	}
	// Both at once: every user's tokens revoked up to a time, and this token.
	values, found, err := revocations(ctx, t.revoked, known.revocationKeys[:]...)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrRevocationUnavailable, err)
	}
	if found[0] && known.issued.UnixMilli() <= values[0] {
		return 0, ErrInvalidToken
	}
	if found[1] {
		return 0, ErrInvalidToken
	}
	return known.userID, nil
}

// Revoke revokes one token (a logout). A token that does not verify needs no revoking.
func (t *Tokens) Revoke(ctx context.Context, token string) error {
	if t.revoked == nil {
		return errors.New("token revocation is not configured")
	}
	known, err := t.verify(token)
	if err != nil {
		return nil
	}
	// Kept until the token expires anyway, and a minute more for clocks apart.
	keep := known.expires.Sub(t.now()) + time.Minute
	return t.revoked.SetIfGreater(ctx, known.revocationKeys[1], known.expires.UnixMilli(), keep)
}

// RevokeUser revokes every token of userID issued until now; tokens issued later work.
func (t *Tokens) RevokeUser(ctx context.Context, userID int64) error {
	if t.revoked == nil {
		return errors.New("token revocation is not configured")
	}
	return RevokeUser(ctx, t.revoked, userID, t.now(), t.ttl)
}

// RevokeUser records in store that every token of userID issued up to now is revoked; ttl is
// the token lifetime (the record is kept as long, as older tokens have expired by then). The
// operator's `douyin revoke` calls it without a running server.
func RevokeUser(ctx context.Context, store RevocationStore, userID int64, now time.Time, ttl time.Duration) error {
	if userID <= 0 {
		return fmt.Errorf("user id must be positive, got %d", userID)
	}
	return store.SetIfGreater(ctx, userKey(userID), now.UnixMilli(), ttl+time.Minute)
}

// verify checks a token's signature and expiry, remembering the answer.
func (t *Tokens) verify(token string) (verifiedToken, error) {
	now := t.now()
	t.mu.RLock()
	known, ok := t.verified.GetAt(token, now)
	t.mu.RUnlock()
	if ok && now.Before(known.expires) {
		return known, nil
	}
	known, err := t.parse(token)
	if err != nil {
		return verifiedToken{}, err
	}
	known.revocationKeys = [2]string{userKey(known.userID), tokenKey(token)}
	t.mu.Lock()
	t.verified.Put(token, known, min(verifiedFor, known.expires.Sub(now)))
	t.mu.Unlock()
	return known, nil
}

// parse checks a token's signature, issuer and expiry and returns its user, issue time and
// expiry.
func (t *Tokens) parse(token string) (verifiedToken, error) {
	var claims tokenClaims
	parsed, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || !parsed.Valid {
		return verifiedToken{}, ErrInvalidToken
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return verifiedToken{}, ErrInvalidToken
	}
	issued := time.UnixMilli(claims.IssuedMillis)
	if claims.IssuedMillis == 0 {
		// Issued before the millisecond claim existed: the second is all there is, rounded
		// up so a revocation in that second still catches it.
		if claims.IssuedAt == nil {
			return verifiedToken{}, ErrInvalidToken
		}
		issued = claims.IssuedAt.Time.Add(time.Second - time.Millisecond)
	}
	return verifiedToken{userID: id, issued: issued, expires: claims.ExpiresAt.Time}, nil
}
