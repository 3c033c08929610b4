// Package blob stores uploaded and processed media: a local directory served by the gateway
// in the embedded mode, Qiniu Kodo in production.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotFound is returned by Open for a missing object.
var ErrNotFound = errors.New("blob: object not found")

// Store keeps objects by key.
type Store interface {
	// Put stores r under key, replacing any previous object, and returns its size.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	// URL returns where clients fetch the object: absolute, or a path starting with "/"
	// that the gateway resolves against the public base URL.
	URL(key string) string
}

// MediaPathPrefix is the gateway path that serves the local store.
const MediaPathPrefix = "/media/"

var validKey = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$`)

// ValidKey reports whether key is a safe object name: lower-case segments, no "..".
func ValidKey(key string) bool {
	return validKey.MatchString(key) && !strings.Contains(key, "..")
}

// Local stores objects as files under a root directory.
type Local struct {
	root string
}

// NewLocal returns a store rooted at dir, creating it. Only this process's user reads the
// objects (the gateway serves them): directories are 0700, objects 0600.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict blob dir: %w", err)
	}
	return &Local{root: dir}, nil
}

// Root is the directory the gateway serves under MediaPathPrefix.
func (l *Local) Root() string { return l.root }

func (l *Local) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// Put writes to a temporary file and renames it, so readers never see a partial object.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := l.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*") // 0600
	if err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	n, err := io.Copy(tmp, readerWithContext{ctx, r})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	return n, nil
}

// Open reads the object.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Delete removes the object; a missing object is not an error.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// URL is the gateway path serving the object.
func (l *Local) URL(key string) string { return MediaPathPrefix + key }

// readerWithContext stops a long copy when the request is cancelled.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
