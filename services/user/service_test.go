package user

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

func newService(t *testing.T) (*Service, *gorm.DB) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	return New(NewSQLStore(gdb), testConfig()), gdb
}

func register(t *testing.T, s *Service, name, password string) int64 {
	t.Helper()
	resp, err := s.Register(context.Background(), &userapi.RegisterRequest{Username: name, Password: password})
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	return resp.UserId
}

// testConfig is DefaultConfig with the cheapest bcrypt cost: the cost itself is tested in
// internal/auth, and cost 12 under the race detector takes seconds per hash.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.PasswordCost = bcrypt.MinCost
	return cfg
}
