package user

import (
	"context"
	"errors"
)

// ErrUsernameTaken is returned by Store.CreateAccount when the username key already exists.
var ErrUsernameTaken = errors.New("username taken")

// Store persists accounts.
type Store interface {
	// CreateAccount inserts a and sets its ID; a taken username key gives ErrUsernameTaken.
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByUsernameKey returns the account with the lower-cased username, or nil.
	AccountByUsernameKey(ctx context.Context, key string) (*Account, error)
	// AccountsByIDs returns the accounts among ids that exist, in no particular order, without
	// their password hashes (profiles never need them).
	AccountsByIDs(ctx context.Context, ids []int64) ([]Account, error)
}

// Account is a row of the users table. Empty avatar, background image and signature mean
// "use the configured default", so changing a default updates every such profile.
type Account struct {
	ID   int64  `gorm:"primaryKey;autoIncrement"`
	Name string `gorm:"size:32;not null"`
	// UsernameKey is the lower-cased name: its unique index makes usernames unique
	// case-insensitively whatever the database's collation.
	UsernameKey     string `gorm:"size:32;not null;uniqueIndex:uk_users_username_key"`
	PasswordHash    string `gorm:"size:72;not null"`
	Avatar          string `gorm:"size:255;not null"`
	BackgroundImage string `gorm:"size:255;not null"`
	Signature       string `gorm:"size:255;not null"`
	// CreatedAt is Unix milliseconds.
	CreatedAt int64 `gorm:"not null;autoCreateTime:milli"`
}
