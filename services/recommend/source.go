package recommend

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// sqlBatch is the rows read per query of the rebuild (keyset paging by primary key).
const sqlBatch = 10_000

// statusReady is the video service's stored value of a ready video.
const statusReady = int8(videoapi.VideoStatus_Ready)

// SQLSource rebuilds the model from the committed rows of the video, favorite, comment and
// relation tables. It only reads, in primary-key order, in batches: the one place the
// recommender reads other services' tables, as the issue asks the model be rebuilt from SQL.
type SQLSource struct {
	db *gorm.DB
}

// NewSQLSource returns the source over gdb (the deployment's database, or a replica of it).
func NewSQLSource(gdb *gorm.DB) *SQLSource { return &SQLSource{db: gdb} }

type videoRow struct {
	ID, AuthorID, CreatedAt int64
}

type likeRow struct {
	ID, UserID, VideoID, Seq, UpdatedAt int64
}

type commentRow struct {
	ID, VideoID, CreatedAt int64
}

type followRow struct {
	ID, FollowerID, FolloweeID, CreatedAt int64
}

// Load feeds every ready video, current like, comment and follow to m.
func (s *SQLSource) Load(ctx context.Context, m *Model) error {
	err := scan(ctx, s.db, "videos", "id, author_id, created_at", "status = ?", []any{statusReady},
		func(r videoRow) int64 { m.AddVideo(r.ID, r.AuthorID, r.CreatedAt); return r.ID })
	if err == nil {
		err = scan(ctx, s.db, "favorites", "id, user_id, video_id, seq, updated_at", "liked = ?", []any{true},
			func(r likeRow) int64 { m.ApplyLike(r.UserID, r.VideoID, true, r.Seq, r.UpdatedAt); return r.ID })
	}
	if err == nil {
		err = scan(ctx, s.db, "comments", "id, video_id, created_at", "", nil,
			func(r commentRow) int64 { m.ApplyComment(r.ID, r.VideoID, true, r.CreatedAt); return r.ID })
	}
	if err == nil {
		err = scan(ctx, s.db, "follows", "id, follower_id, followee_id, created_at", "", nil,
			func(r followRow) int64 { m.ApplyFollow(r.FollowerID, r.FolloweeID, true, r.CreatedAt); return r.ID })
	}
	return err
}

// scan reads table in primary-key order, sqlBatch rows at a time, handing each row to apply
// (which returns the row's id, the next page's lower bound).
func scan[R any](ctx context.Context, gdb *gorm.DB, table, columns, where string, args []any, apply func(R) int64) error {
	var after int64
	for {
		q := gdb.WithContext(ctx).Table(table).Select(columns).Where("id > ?", after)
		if where != "" {
			q = q.Where(where, args...)
		}
		var rows []R
		if err := q.Order("id").Limit(sqlBatch).Find(&rows).Error; err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for _, r := range rows {
			after = apply(r)
		}
		if len(rows) < sqlBatch {
			return nil
		}
	}
}
