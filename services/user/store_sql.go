package user

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// TableName names the table.
func (Account) TableName() string { return "users" }

// Migrate creates or updates the user service's tables.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Account{}); err != nil {
		return fmt.Errorf("migrate users: %w", err)
	}
	return nil
}

// profileColumns are the columns a profile read needs.
var profileColumns = []string{"id", "name", "avatar", "background_image", "signature"}

type sqlStore struct {
	gdb *gorm.DB
}

// NewSQLStore returns the Store backed by gdb.
func NewSQLStore(gdb *gorm.DB) Store {
	return &sqlStore{gdb: gdb}
}

func (s *sqlStore) CreateAccount(ctx context.Context, a *Account) error {
	err := s.gdb.WithContext(ctx).Create(a).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrUsernameTaken
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

func (s *sqlStore) AccountByUsernameKey(ctx context.Context, key string) (*Account, error) {
	var rows []Account
	// Find with Limit rather than First: a missing user is a normal outcome, not an error.
	if err := s.gdb.WithContext(ctx).Where("username_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find user by username: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

func (s *sqlStore) AccountsByIDs(ctx context.Context, ids []int64) ([]Account, error) {
	rows := []Account{}
	if len(ids) == 0 {
		return rows, nil
	}
	if err := s.gdb.WithContext(ctx).Select(profileColumns).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find users by ids: %w", err)
	}
	return rows, nil
}
