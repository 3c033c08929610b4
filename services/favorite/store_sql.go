package favorite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// Favorite is the like state of one user for one video: one row per pair, kept when unliked
// so its seq still orders later events. The list reads (user_id, liked, updated_at).
type Favorite struct {
	ID       int64 `gorm:"primaryKey"`
	UserID   int64 `gorm:"not null;uniqueIndex:uk_favorites_user_video,priority:1;index:idx_favorites_user_liked_updated,priority:1"`
	VideoID  int64 `gorm:"not null;uniqueIndex:uk_favorites_user_video,priority:2"`
	AuthorID int64 `gorm:"not null"`
	Liked    bool  `gorm:"not null;index:idx_favorites_user_liked_updated,priority:2"`
	// Seq is the sequence of the last applied event; older events are ignored.
	Seq int64 `gorm:"not null"`
	// UpdatedAt is the Unix milliseconds of the last applied action (GORM's own are seconds).
	UpdatedAt int64 `gorm:"not null;autoUpdateTime:false;index:idx_favorites_user_liked_updated,priority:3"`
}

// TableName names the table.
func (Favorite) TableName() string { return "favorites" }

// VideoCount is the number of likes of a video.
type VideoCount struct {
	VideoID       int64 `gorm:"primaryKey;autoIncrement:false"`
	FavoriteCount int64 `gorm:"not null;default:0"`
}

// TableName names the table.
func (VideoCount) TableName() string { return "favorite_video_counts" }

// TableName names the table.
func (UserCount) TableName() string { return "favorite_user_counts" }

// Migrate creates or updates the favorite tables.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Favorite{}, &VideoCount{}, &UserCount{}); err != nil {
		return fmt.Errorf("migrate favorite tables: %w", err)
	}
	// No query reads likes by video alone (counts have their own table), and every like pays
	// for each index of this table: earlier schemas had one, drop it.
	if m := gdb.Migrator(); m.HasIndex(&Favorite{}, unusedVideoIndex) {
		if err := m.DropIndex(&Favorite{}, unusedVideoIndex); err != nil {
			return fmt.Errorf("drop %s: %w", unusedVideoIndex, err)
		}
	}
	return nil
}

// unusedVideoIndex is an index of earlier schemas that Migrate drops.
const unusedVideoIndex = "idx_favorites_video"

// maxApplyAttempts bounds the retries of ApplyLike when a concurrent writer of the same pair
// wins; events of one pair are normally delivered one at a time, so one retry is rare.
const maxApplyAttempts = 8

// errConflict makes ApplyLike retry after a concurrent writer changed the pair's row.
var errConflict = errors.New("favorite row changed concurrently")

type sqlStore struct {
	db *gorm.DB
}

// NewSQLStore returns the GORM-backed Store.
func NewSQLStore(gdb *gorm.DB) Store {
	return &sqlStore{db: gdb}
}

func (s *sqlStore) ApplyLike(ctx context.Context, e event.LikeEvent) (Committed, error) {
	var out [1]Committed
	if err := s.applyInTx(ctx, []event.LikeEvent{e}, out[:]); err != nil {
		return Committed{}, fmt.Errorf("apply like of user %d on video %d: %w", e.UserId, e.VideoId, err)
	}
	return out[0], nil
}

func (s *sqlStore) ApplyLikes(ctx context.Context, events []event.LikeEvent) ([]Committed, []error) {
	out, failed := make([]Committed, len(events)), make([]error, len(events))
	if len(events) == 0 || s.applyInTx(ctx, events, out) == nil {
		return out, failed
	}
	// The batch failed as a whole: apply one by one, so one event's failure stays its own.
	for i, e := range events {
		out[i], failed[i] = s.ApplyLike(ctx, e)
	}
	return out, failed
}

// applyInTx runs applyLikes in one transaction, again when a concurrent writer got in the
// way: a duplicate key (a concurrent first event for a pair inserted its row: the retry
// reads it and orders against it), a changed seq, or a MySQL deadlock (everything was rolled
// back, so the whole batch is applied again).
func (s *sqlStore) applyInTx(ctx context.Context, events []event.LikeEvent, out []Committed) error {
	var err error
	for attempt := range maxApplyAttempts {
		clear(out)
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return applyLikes(tx, events, out)
		})
		switch {
		case err == nil:
			return nil
		case db.IsRetryable(err):
			if berr := db.Backoff(ctx, attempt+1); berr != nil {
				return errors.Join(err, berr)
			}
		case errors.Is(err, errConflict), errors.Is(err, gorm.ErrDuplicatedKey):
		default:
			return err
		}
	}
	return fmt.Errorf("%w after %d attempts", err, maxApplyAttempts)
}

type likePair struct{ userID, videoID int64 }

// likeRow is a pair's row as the batch leaves it; readSeq is the seq it was read with, the
// compare-and-swap condition of its update.
type likeRow struct {
	row             Favorite
	stored, changed bool
	readSeq         int64
}

// applyLikes applies events in order inside tx with few statements whatever the batch size:
// one read of every pair's row, one insert of the new rows, the updates of changed stored
// rows (one statement on SQLite, one per row on MySQL), and one counter upsert per table. Per pair it is the rule of one
// event: an event not newer (seq) than the pair's row changes nothing, and the counters move
// only when the liked state flips; out[i] reports whether events[i] flipped it, and its
// pair's state at the end of the batch.
func applyLikes(tx *gorm.DB, events []event.LikeEvent, out []Committed) error {
	rows, err := readLikeRows(tx, events)
	if err != nil {
		return err
	}
	videoDeltas := map[int64][]int64{}
	userDeltas := map[int64][]int64{} // user → favorite_count, total_favorited
	var fresh []*likeRow              // in the order first seen, for a deterministic insert
	for i, e := range events {
		p := likePair{e.UserId, e.VideoId}
		r, ok := rows[p]
		wasLiked := false
		switch {
		case !ok:
			// The row is recorded even for an unlike, so its seq rejects an older like arriving late.
			r = &likeRow{row: Favorite{UserID: e.UserId, VideoID: e.VideoId, AuthorID: e.AuthorId, Liked: e.Liked, Seq: e.Seq, UpdatedAt: e.At}}
			rows[p] = r
			fresh = append(fresh, r)
		case r.row.Seq >= e.Seq:
			continue // stale or redelivered
		default:
			wasLiked = r.row.Liked
			r.row.Liked, r.row.Seq, r.row.UpdatedAt = e.Liked, e.Seq, e.At
			r.changed = r.stored
		}
		if wasLiked == e.Liked {
			continue
		}
		out[i].Flipped = true
		d := int64(-1)
		if e.Liked {
			d = 1
		}
		addDelta(videoDeltas, e.VideoId, 0, d, 1)
		addDelta(userDeltas, e.UserId, 0, d, 2)
		addDelta(userDeltas, e.AuthorId, 1, d, 2)
	}
	for i, e := range events {
		r := rows[likePair{e.UserId, e.VideoId}]
		out[i].Liked, out[i].Seq = r.row.Liked, r.row.Seq
	}
	if err := insertLikeRows(tx, fresh); err != nil {
		return err
	}
	if err := updateLikeRows(tx, rows); err != nil {
		return err
	}
	if err := db.AddCounterRows(tx, VideoCount{}.TableName(), "video_id", []string{"favorite_count"}, videoDeltas); err != nil {
		return err
	}
	return db.AddCounterRows(tx, UserCount{}.TableName(), "user_id", []string{"favorite_count", "total_favorited"}, userDeltas)
}

// updateLikeRowsSQLite updates the rows of one JSON parameter, [id, liked, seq, updated_at,
// the seq read] each.
const updateLikeRowsSQLite = "UPDATE favorites SET liked = j.value->>1, seq = j.value->>2, updated_at = j.value->>3" +
	" FROM json_each(?) AS j WHERE favorites.id = j.value->>0 AND favorites.seq = j.value->>4"

// updateLikeRows writes the changed stored rows, each a compare-and-swap on seq: a plain read
// does not lock the row on every database, so an update only lands if nobody applied another
// event since the batch read it. SQLite takes them all in one statement (see db.JSONRows),
// MySQL one statement each.
func updateLikeRows(tx *gorm.DB, rows map[likePair]*likeRow) error {
	var changed db.JSONRows
	n := 0
	for _, r := range rows {
		if !r.changed {
			continue
		}
		if tx.Dialector.Name() == db.DriverSQLite {
			changed.Add(r.row.ID, boolCount(r.row.Liked), r.row.Seq, r.row.UpdatedAt, r.readSeq)
			n++
			continue
		}
		res := tx.Exec("UPDATE favorites SET liked = ?, seq = ?, updated_at = ? WHERE id = ? AND seq = ?",
			r.row.Liked, r.row.Seq, r.row.UpdatedAt, r.row.ID, r.readSeq)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errConflict
		}
	}
	if n == 0 {
		return nil
	}
	res := tx.Exec(updateLikeRowsSQLite, changed.String())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != int64(n) {
		return errConflict
	}
	return nil
}

// insertLikeRows inserts the new rows in one statement. It is written by hand: GORM's Create
// of a slice reflects over every row and reads the ids back, which nothing here needs, and
// this statement runs once per group commit on the like writer's hot path. On SQLite the
// rows travel as one JSON parameter (see db.JSONRows).
func insertLikeRows(tx *gorm.DB, fresh []*likeRow) error {
	if len(fresh) == 0 {
		return nil
	}
	if tx.Dialector.Name() == db.DriverSQLite {
		var rows db.JSONRows
		for _, r := range fresh {
			f := r.row
			rows.Add(f.UserID, f.VideoID, f.AuthorID, boolCount(f.Liked), f.Seq, f.UpdatedAt)
		}
		return tx.Exec("INSERT INTO favorites (user_id, video_id, author_id, liked, seq, updated_at)"+
			" SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?)", rows.String()).Error
	}
	var sql strings.Builder
	sql.WriteString("INSERT INTO favorites (user_id, video_id, author_id, liked, seq, updated_at) VALUES ")
	args := make([]any, 0, 6*len(fresh))
	for i, r := range fresh {
		if i > 0 {
			sql.WriteString(",")
		}
		sql.WriteString("(?,?,?,?,?,?)")
		f := r.row
		args = append(args, f.UserID, f.VideoID, f.AuthorID, f.Liked, f.Seq, f.UpdatedAt)
	}
	return tx.Exec(sql.String(), args...).Error
}

// readLikeRows reads the stored rows of the events' pairs in one query.
func readLikeRows(tx *gorm.DB, events []event.LikeEvent) (map[likePair]*likeRow, error) {
	rows := make(map[likePair]*likeRow, len(events))
	seen := make(map[likePair]bool, len(events))
	pairs := make([]likePair, 0, len(events))
	for _, e := range events {
		p := likePair{e.UserId, e.VideoId}
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	var stored []Favorite
	var err error
	if tx.Dialector.Name() == db.DriverSQLite {
		stored, err = readPairsSQLite(tx, pairs)
	} else {
		stored, err = readPairsORed(tx, pairs)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range stored {
		rows[likePair{f.UserID, f.VideoID}] = &likeRow{row: f, stored: true, readSeq: f.Seq}
	}
	return rows, nil
}

// readPairsSQLite passes the pairs as one JSON array (db.JSONRows) and joins it to the unique
// index: SQLite spent more time parsing and planning a long OR than running it.
func readPairsSQLite(tx *gorm.DB, pairs []likePair) ([]Favorite, error) {
	var list db.JSONRows
	for _, p := range pairs {
		list.Add(p.userID, p.videoID)
	}
	var stored []Favorite
	// CROSS JOIN fixes the order: the pairs outside, one unique-index probe each.
	err := tx.Raw("SELECT f.* FROM json_each(?) AS j CROSS JOIN favorites AS f"+
		" ON f.user_id = j.value->>0 AND f.video_id = j.value->>1", list.String()).Scan(&stored).Error
	return stored, err
}

// readPairsORed reads the pairs with one "(user_id = ? AND video_id = ?)" term each, ORed:
// every engine answers each term from the unique index (a row-value IN list is not served
// by the index on every MySQL/MariaDB version).
func readPairsORed(tx *gorm.DB, pairs []likePair) ([]Favorite, error) {
	var where strings.Builder
	args := make([]any, 0, 2*len(pairs))
	for i, p := range pairs {
		if i > 0 {
			where.WriteString(" OR ")
		}
		where.WriteString("(user_id = ? AND video_id = ?)")
		args = append(args, p.userID, p.videoID)
	}
	var stored []Favorite
	err := tx.Where(where.String(), args...).Find(&stored).Error
	return stored, err
}

// addDelta adds d to column col of key's deltas (width columns).
func addDelta(deltas map[int64][]int64, key int64, col int, d int64, width int) {
	row, ok := deltas[key]
	if !ok {
		row = make([]int64, width)
		deltas[key] = row
	}
	row[col] += d
}

func (s *sqlStore) ListLikedVideos(ctx context.Context, userID int64, limit int) ([]int64, error) {
	videoIDs := []int64{}
	err := s.db.WithContext(ctx).Model(&Favorite{}).
		Where("user_id = ? AND liked = ?", userID, true).
		Order("updated_at DESC, id DESC").Limit(limit).Pluck("video_id", &videoIDs).Error
	if err != nil {
		return nil, fmt.Errorf("list liked videos of user %d: %w", userID, err)
	}
	return videoIDs, nil
}

func (s *sqlStore) MGetVideoCounts(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	counts := make(map[int64]int64, len(videoIDs))
	if len(videoIDs) == 0 {
		return counts, nil
	}
	var rows []VideoCount
	if err := s.db.WithContext(ctx).Where("video_id IN ?", videoIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get video favorite counts: %w", err)
	}
	for _, r := range rows {
		counts[r.VideoID] = r.FavoriteCount
	}
	return counts, nil
}

func (s *sqlStore) LikedAmong(ctx context.Context, userID int64, videoIDs []int64) (map[int64]bool, error) {
	liked := make(map[int64]bool, len(videoIDs))
	if len(videoIDs) == 0 {
		return liked, nil
	}
	var hits []int64
	err := s.db.WithContext(ctx).Model(&Favorite{}).
		Where("user_id = ? AND video_id IN ? AND liked = ?", userID, videoIDs, true).
		Pluck("video_id", &hits).Error
	if err != nil {
		return nil, fmt.Errorf("get liked videos of user %d: %w", userID, err)
	}
	for _, id := range hits {
		liked[id] = true
	}
	return liked, nil
}

func (s *sqlStore) LikedVideoIDs(ctx context.Context, userID int64) ([]int64, error) {
	videoIDs := []int64{}
	// Served by idx_favorites_user_liked_updated (user_id, liked, ...).
	err := s.db.WithContext(ctx).Model(&Favorite{}).
		Where("user_id = ? AND liked = ?", userID, true).Pluck("video_id", &videoIDs).Error
	if err != nil {
		return nil, fmt.Errorf("load liked videos of user %d: %w", userID, err)
	}
	return videoIDs, nil
}

func (s *sqlStore) MGetUserCounts(ctx context.Context, userIDs []int64) (map[int64]UserCount, error) {
	counts := make(map[int64]UserCount, len(userIDs))
	if len(userIDs) == 0 {
		return counts, nil
	}
	var rows []UserCount
	if err := s.db.WithContext(ctx).Where("user_id IN ?", userIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get user favorite counts: %w", err)
	}
	for _, r := range rows {
		counts[r.UserID] = r
	}
	return counts, nil
}
