package gateway

import (
	"context"
	"fmt"
	"sync"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/ids"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// The assemblers build the app's objects from the services that own each part. Each makes a
// constant number of batched calls, issued together (see fetch), whatever the number of items: never
// one call per item.

// Optional parts of a page: without them the page is still served (zero counts, false
// flags), counted in douyin_http_degraded_total and logged with the request id. Profiles,
// video records and authors are never optional: a page without them would be wrong, not
// incomplete.
const (
	partRelations     = "relations"      // follow counts and is_follow
	partFavoriteStats = "favorite_stats" // favorite_count and total_favorited of users
	partWorkCounts    = "work_counts"
	partVideoLikes    = "video_favorites" // favorite_count and is_favorite of videos
	partCommentCounts = "comment_counts"
)

// optional runs fetch for an optional part of the page: its failure degrades the page
// instead of failing it.
func (g *Gateway) optional(ctx context.Context, scope pageScope, part string, fetch func() error) {
	err := fetch()
	if err != nil && scope.degraded != nil {
		scope.degraded.Store(true)
	}
	if err == nil || ctx.Err() != nil {
		return // the request itself is over: nothing is served anyway
	}
	g.deps.Logger.WarnContext(ctx, "page served without an optional part", "route", scope.route, "part", part,
		requestIDAttr(ctx, scope.requestID), "err", err)
	if g.deps.Metrics != nil {
		g.deps.Metrics.ObserveDegraded(scope.route, part)
	}
}

// fetch makes the independent calls of a page, the required one first: one after another
// when the services answer in this process (a plain call costs less than a goroutine and
// its synchronisation), else in parallel.
func (g *Gateway) fetch(required func(), optionals ...func()) {
	if g.deps.InProcess {
		required()
		for _, call := range optionals {
			call()
		}
		return
	}
	var wg sync.WaitGroup
	for _, call := range optionals {
		wg.Go(call)
	}
	required()
	wg.Wait()
}

// users returns the full User of every existing id as seen by viewer (0: anonymous), in four
// calls (see fetch): profiles, relation counts and flags, favorite stats, work counts. Only the
// profiles are required; the rest are optional parts.
func (g *Gateway) users(ctx context.Context, scope pageScope, viewer int64, userIDs []int64) (map[int64]*base.User, error) {
	userIDs = ids.Unique(userIDs)
	parts := userParts{}
	if err := g.fetchUsers(ctx, scope, viewer, userIDs, &parts); err != nil {
		return nil, err
	}
	return parts.build(scope, viewer, userIDs), nil
}

// userParts are the answers a User is built from. A caller that has an optional part already
// (from a call it makes anyway) sets it, or its have flag for one it fetches itself, and
// fetchUsers leaves that part out.
type userParts struct {
	profiles      *userapi.MGetUsersResponse
	relations     map[int64]*relationapi.UserRelationInfo
	favorites     map[int64]*favoriteapi.UserFavoriteStats
	works         map[int64]int64
	haveFavorites bool
	haveWorks     bool
}

// fetchUsers fetches the parts of userIDs (unique) that parts lacks, in parallel (see fetch).
func (g *Gateway) fetchUsers(ctx context.Context, scope pageScope, viewer int64, userIDs []int64, parts *userParts) error {
	if len(userIDs) == 0 {
		return nil
	}
	var err error
	calls := []func(){func() {
		g.optional(ctx, scope, partRelations, func() error {
			r, err := g.deps.Relations.MGetRelations(ctx, &relationapi.MGetRelationsRequest{ViewerId: viewer, UserIds: userIDs})
			if err == nil {
				parts.relations = r.Users
			}
			return err
		})
	}}
	if !parts.haveFavorites {
		calls = append(calls, func() { g.userFavoriteStats(ctx, scope, userIDs, parts) })
	}
	if !parts.haveWorks {
		calls = append(calls, func() { g.workCounts(ctx, scope, viewer, userIDs, parts) })
	}
	g.fetch(func() {
		parts.profiles, err = g.deps.Users.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: userIDs})
	}, calls...)
	return wrap("get users", err)
}

// workCounts fetches the work counts part of userIDs on its own.
func (g *Gateway) workCounts(ctx context.Context, scope pageScope, viewer int64, userIDs []int64, parts *userParts) {
	g.optional(ctx, scope, partWorkCounts, func() error {
		r, err := g.deps.Videos.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: userIDs, ViewerId: viewer})
		if err == nil {
			parts.works = r.WorkCounts
		}
		return err
	})
}

// userFavoriteStats fetches the favorite stats part of userIDs on its own.
func (g *Gateway) userFavoriteStats(ctx context.Context, scope pageScope, userIDs []int64, parts *userParts) {
	g.optional(ctx, scope, partFavoriteStats, func() error {
		r, err := g.deps.Favorites.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: userIDs})
		if err == nil {
			parts.favorites = r.Users
		}
		return err
	})
}

// build is the User of every id of userIDs (unique) with a profile; a part that failed leaves
// zero counts and false flags.
func (parts *userParts) build(scope pageScope, viewer int64, userIDs []int64) map[int64]*base.User {
	out := make(map[int64]*base.User, len(userIDs))
	if parts.profiles == nil {
		return out
	}
	all := make([]base.User, len(userIDs)) // one allocation for every user
	for _, id := range userIDs {
		p, ok := parts.profiles.Users[id]
		if !ok {
			continue
		}
		u := &all[len(out)]
		*u = base.User{
			ID:              id,
			Name:            p.Name,
			Avatar:          scope.url(p.Avatar),
			BackgroundImage: scope.url(p.BackgroundImage),
			Signature:       p.Signature,
			WorkCount:       parts.works[id],
		}
		if r := parts.relations[id]; r != nil {
			u.FollowCount, u.FollowerCount, u.IsFollow = r.FollowCount, r.FollowerCount, r.IsFollow && viewer != id
		}
		if f := parts.favorites[id]; f != nil {
			u.FavoriteCount, u.TotalFavorited = f.FavoriteCount, f.TotalFavorited
		}
		out[id] = u
	}
	return out
}

// usersInOrder returns users for ids in the given order, skipping ids that no longer exist.
func (g *Gateway) usersInOrder(ctx context.Context, scope pageScope, viewer int64, userIDs []int64) ([]*base.User, error) {
	byID, err := g.users(ctx, scope, viewer, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]*base.User, 0, len(userIDs))
	for _, id := range userIDs {
		if u, ok := byID[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// coverOf is a video's cover, or for one its author sees before it is ready, a placeholder
// marking it processing or failed.
func coverOf(r *videoapi.VideoRecord) string {
	switch r.Status {
	case videoapi.VideoStatus_Processing:
		return processingCoverPath
	case videoapi.VideoStatus_Failed:
		return failedCoverPath
	default:
		return r.CoverUrl
	}
}

// videos returns the app's Video for each record, in order, as seen by viewer: authors,
// favorite counts and flags, and comment counts come from batch calls made together (see fetch); the authors
// are required, the rest are optional parts.
func (g *Gateway) videos(ctx context.Context, scope pageScope, viewer int64, records []*videoapi.VideoRecord) ([]*base.Video, error) {
	return g.videosWith(ctx, scope, viewer, records, userParts{})
}

// videosWith is videos given the parts of the authors the caller already has. The authors'
// favorite stats come with the videos' favorites, in one call.
func (g *Gateway) videosWith(ctx context.Context, scope pageScope, viewer int64, records []*videoapi.VideoRecord, authors userParts) ([]*base.Video, error) {
	if len(records) == 0 {
		return []*base.Video{}, nil
	}
	videoIDs := make([]int64, len(records))
	authorIDs := make([]int64, len(records))
	for i, r := range records {
		videoIDs[i], authorIDs[i] = r.Id, r.AuthorId
	}
	return g.assembleVideos(ctx, scope, viewer, videoIDs, authorIDs, authors, records, nil)
}

// recordsInOrder is the records found of videoIDs, in their order.
func recordsInOrder(found *videoapi.MGetVideosResponse, videoIDs []int64) []*videoapi.VideoRecord {
	records := make([]*videoapi.VideoRecord, 0, len(videoIDs))
	for _, id := range videoIDs {
		if r, ok := found.Videos[id]; ok {
			records = append(records, r)
		}
	}
	return records
}

// recordsRead is a page's records and, when the video service brings them, their authors'
// work counts.
type recordsRead struct {
	records   []*videoapi.VideoRecord
	works     map[int64]int64
	haveWorks bool
	err       error
}

// assembleVideos builds the Video of each record, in order, from the parts of videoIDs and
// their authors (authorIDs, aligned). With alongside, the records are those it reads, a call
// made alongside the parts' calls: authors.haveWorks then promises the work counts it brings
// (a video service older than with_work_counts is asked for them after).
func (g *Gateway) assembleVideos(ctx context.Context, scope pageScope, viewer int64, videoIDs, authorIDs []int64, authors userParts,
	records []*videoapi.VideoRecord, alongside func() recordsRead) ([]*base.Video, error) {
	authorIDs = ids.Unique(authorIDs)
	authors.haveFavorites = true
	favorites := &favoriteapi.MGetVideoFavoritesResponse{}
	comments := &commentapi.MGetCommentCountsResponse{}
	var favoritesErr, err error
	parts := []func(){func() {
		g.optional(ctx, scope, partVideoLikes, func() error {
			r, err := g.deps.Favorites.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: viewer, VideoIds: videoIDs, UserIds: authorIDs})
			if err == nil {
				favorites = r
			}
			favoritesErr = err
			return err
		})
	}, func() {
		g.optional(ctx, scope, partCommentCounts, func() error {
			r, err := g.deps.Comments.MGetCommentCounts(ctx, &commentapi.MGetCommentCountsRequest{VideoIds: videoIDs})
			if err == nil {
				comments = r
			}
			return err
		})
	}}
	var got recordsRead
	if alongside != nil {
		parts = append([]func(){func() { got = alongside() }}, parts...) // the longest call goes out first
	}
	g.fetch(func() {
		err = g.fetchUsers(ctx, scope, viewer, authorIDs, &authors)
	}, parts...)
	if err == nil {
		err = got.err
	}
	if err != nil {
		return nil, err
	}
	if alongside != nil {
		records, authors.works = got.records, got.works
		if !got.haveWorks {
			g.workCounts(ctx, scope, viewer, authorIDs, &authors)
		}
	}
	switch {
	case favorites.IsSetUsers():
		authors.favorites = favorites.Users
	case favoritesErr != nil:
		g.optional(ctx, scope, partFavoriteStats, func() error { return favoritesErr })
	default:
		// A favorite service older than user_ids, or one that could not read them.
		g.userFavoriteStats(ctx, scope, authorIDs, &authors)
	}
	byID := authors.build(scope, viewer, authorIDs)
	out := make([]*base.Video, 0, len(records))
	all := make([]base.Video, len(records)) // one allocation for every video
	for _, r := range records {
		author, ok := byID[r.AuthorId]
		if !ok {
			continue // the author is gone; never show a video without one
		}
		v := &all[len(out)]
		*v = base.Video{
			ID:           r.Id,
			Author:       author,
			PlayURL:      scope.url(r.PlayUrl),
			CoverURL:     scope.url(coverOf(r)),
			Title:        r.Title,
			CommentCount: comments.CommentCounts[r.Id],
			Renditions:   make([]*base.Rendition, 0, len(r.Renditions)),
		}
		for _, rd := range r.Renditions {
			v.Renditions = append(v.Renditions, &base.Rendition{Height: rd.Height, Width: rd.Width, URL: scope.url(rd.Url)})
		}
		if f := favorites.Videos[r.Id]; f != nil {
			v.FavoriteCount, v.IsFavorite = f.FavoriteCount, f.IsFavorite
		}
		out = append(out, v)
	}
	return out, nil
}

// videosByID loads ready videos by id, in the order given, and assembles them.
func (g *Gateway) videosByID(ctx context.Context, scope pageScope, viewer int64, videoIDs []int64) ([]*base.Video, error) {
	if len(videoIDs) == 0 {
		return []*base.Video{}, nil
	}
	found, err := g.deps.Videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: videoIDs})
	if err != nil {
		return nil, wrap("get videos", err)
	}
	records := make([]*videoapi.VideoRecord, 0, len(videoIDs))
	for _, id := range videoIDs {
		if r, ok := found.Videos[id]; ok {
			records = append(records, r)
		}
	}
	return g.videos(ctx, scope, viewer, records)
}

// wrap names the failed call; business errors pass through unchanged for the error table.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", action, err)
}
