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

// Load calls apply with every ready video, current like, comment and follow.
func (s *SQLSource) Load(ctx context.Context, apply func(Event) error) error {
	err := scan(ctx, s.db, "videos", "id, author_id, created_at", "status = ?", []any{statusReady},
		func(r videoRow) (int64, error) {
			return r.ID, apply(Event{Kind: EventVideo, Video: r.ID, Author: r.AuthorID, At: r.CreatedAt})
		})
	if err == nil {
		err = scan(ctx, s.db, "favorites", "id, user_id, video_id, seq, updated_at", "liked = ?", []any{true},
			func(r likeRow) (int64, error) {
				return r.ID, apply(Event{Kind: EventLike, User: r.UserID, Video: r.VideoID, On: true, Seq: r.Seq, At: r.UpdatedAt})
			})
	}
	if err == nil {
		err = scan(ctx, s.db, "comments", "id, video_id, created_at", "", nil,
			func(r commentRow) (int64, error) {
				return r.ID, apply(Event{Kind: EventComment, Comment: r.ID, Video: r.VideoID, On: true, At: r.CreatedAt})
			})
	}
	if err == nil {
		err = scan(ctx, s.db, "follows", "id, follower_id, followee_id, created_at", "", nil,
			func(r followRow) (int64, error) {
				return r.ID, apply(Event{Kind: EventFollow, User: r.FollowerID, Author: r.FolloweeID, On: true, At: r.CreatedAt})
			})
	}
	return err
}

// scan reads table in primary-key order, sqlBatch rows at a time, handing each row to apply
// (which returns the row's id, the next page's lower bound).
func scan[R any](ctx context.Context, gdb *gorm.DB, table, columns, where string, args []any, apply func(R) (int64, error)) error {
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
			id, err := apply(r)
			if err != nil {
				return fmt.Errorf("apply %s row %d: %w", table, id, err)
			}
			after = id
		}
		if len(rows) < sqlBatch {
			return nil
		}
	}
}
