package relation

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/douyin-backend/douyin/internal/db"
)

// TableName names the table.
func (Follow) TableName() string { return "follows" }

// TableName names the table.
func (Counts) TableName() string { return countsTable }

const countsTable = "relation_counts"

// Migrate creates or updates the relation service's tables.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Follow{}, &Counts{}); err != nil {
		return fmt.Errorf("migrate relation tables: %w", err)
	}
	return nil
}

type sqlStore struct {
	gdb *gorm.DB
}

// NewSQLStore returns the Store backed by gdb.
func NewSQLStore(gdb *gorm.DB) Store {
	return &sqlStore{gdb: gdb}
}

func (s *sqlStore) Follow(ctx context.Context, followerID, followeeID int64) (bool, error) {
	inserted := false
	// Transact reruns the transaction when MySQL breaks a deadlock (mutual follows lock the
	// two counter rows in opposite orders), so the result is set afresh on each run.
	err := db.Transact(ctx, s.gdb, func(tx *gorm.DB) error {
		inserted = false
		row := Follow{FollowerID: followerID, FolloweeID: followeeID, CreatedAt: db.NowMillis()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return fmt.Errorf("insert follow: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		inserted = true
		return addCounts(tx, followerID, followeeID, 1)
	})
	return inserted, err
}

func (s *sqlStore) Unfollow(ctx context.Context, followerID, followeeID int64) (bool, error) {
	deleted := false
	err := db.Transact(ctx, s.gdb, func(tx *gorm.DB) error {
		deleted = false
		res := tx.Where("follower_id = ? AND followee_id = ?", followerID, followeeID).Delete(&Follow{})
		if res.Error != nil {
			return fmt.Errorf("delete follow: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		deleted = true
		return addCounts(tx, followerID, followeeID, -1)
	})
	return deleted, err
}

func addCounts(tx *gorm.DB, followerID, followeeID, delta int64) error {
	if err := db.AddCounters(tx, countsTable, "user_id", followerID, map[string]int64{"follow_count": delta}); err != nil {
		return err
	}
	return db.AddCounters(tx, countsTable, "user_id", followeeID, map[string]int64{"follower_count": delta})
}

func (s *sqlStore) FolloweeIDs(ctx context.Context, userID int64, limit int) ([]int64, error) {
	out := []int64{}
	err := s.gdb.WithContext(ctx).Model(&Follow{}).Where("follower_id = ?", userID).
		Order("created_at DESC, id DESC").Limit(limit).Pluck("followee_id", &out).Error
	if err != nil {
		return nil, fmt.Errorf("list followees: %w", err)
	}
	return out, nil
}

func (s *sqlStore) FollowerIDs(ctx context.Context, userID int64, limit int) ([]int64, error) {
	out := []int64{}
	err := s.gdb.WithContext(ctx).Model(&Follow{}).Where("followee_id = ?", userID).
		Order("created_at DESC, id DESC").Limit(limit).Pluck("follower_id", &out).Error
	if err != nil {
		return nil, fmt.Errorf("list followers: %w", err)
	}
	return out, nil
}

func (s *sqlStore) FriendIDs(ctx context.Context, userID int64, limit int) ([]int64, error) {
	out := []int64{}
	// out_f: userID follows them; back: they follow userID (found through the unique key).
	// CASE rather than GREATEST/MAX(a,b): the one spelling SQLite and MySQL share. Ties in
	// the same millisecond go to the later insert.
	err := s.gdb.WithContext(ctx).Table("follows AS out_f").
		Joins("JOIN follows AS back ON back.follower_id = out_f.followee_id AND back.followee_id = out_f.follower_id").
		Where("out_f.follower_id = ?", userID).
		Order("CASE WHEN back.created_at > out_f.created_at THEN back.created_at ELSE out_f.created_at END DESC, "+
			"CASE WHEN back.id > out_f.id THEN back.id ELSE out_f.id END DESC").
		Limit(limit).Pluck("out_f.followee_id", &out).Error
	if err != nil {
		return nil, fmt.Errorf("list friends: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Counts(ctx context.Context, userIDs []int64) (map[int64]Counts, error) {
	out := make(map[int64]Counts, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []Counts
	if err := s.gdb.WithContext(ctx).Where("user_id IN ?", userIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read relation counts: %w", err)
	}
	for _, r := range rows {
		out[r.UserID] = r
	}
	return out, nil
}

func (s *sqlStore) FolloweeSet(ctx context.Context, userID int64) ([]int64, error) {
	out := []int64{}
	// Served by idx_follows_follower_created (follower_id, ...).
	err := s.gdb.WithContext(ctx).Model(&Follow{}).Where("follower_id = ?", userID).Pluck("followee_id", &out).Error
	if err != nil {
		return nil, fmt.Errorf("load followees of user %d: %w", userID, err)
	}
	return out, nil
}

func (s *sqlStore) FollowedAmong(ctx context.Context, followerID int64, userIDs []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	var followed []int64
	err := s.gdb.WithContext(ctx).Model(&Follow{}).
		Where("follower_id = ? AND followee_id IN ?", followerID, userIDs).
		Pluck("followee_id", &followed).Error
	if err != nil {
		return nil, fmt.Errorf("read follows of viewer: %w", err)
	}
	for _, id := range followed {
		out[id] = true
	}
	return out, nil
}
