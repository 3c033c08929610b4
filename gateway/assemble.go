package gateway

import (
	"context"
	"fmt"

	"github.com/cloudwego/hertz/pkg/app"
	"golang.org/x/sync/errgroup"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/ids"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// The assemblers build the app's objects from the services that own each part. Each makes a
// constant number of batched calls, issued in parallel, whatever the number of items: never
// one call per item.

// users returns the full User of every existing id as seen by viewer (0: anonymous), in four
// parallel calls: profiles, relation counts and flags, favorite stats, work counts.
func (g *Gateway) users(ctx context.Context, c *app.RequestContext, viewer int64, userIDs []int64) (map[int64]*base.User, error) {
	userIDs = ids.Unique(userIDs)
	out := make(map[int64]*base.User, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	var (
		profiles  *userapi.MGetUsersResponse
		relations *relationapi.MGetRelationsResponse
		favorites *favoriteapi.MGetUserFavoriteStatsResponse
		works     *videoapi.MGetWorkCountsResponse
	)
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() (err error) {
		profiles, err = g.deps.Users.MGetUsers(gctx, &userapi.MGetUsersRequest{UserIds: userIDs})
		return wrap("get users", err)
	})
	grp.Go(func() (err error) {
		relations, err = g.deps.Relations.MGetRelations(gctx, &relationapi.MGetRelationsRequest{ViewerId: viewer, UserIds: userIDs})
		return wrap("get relations", err)
	})
	grp.Go(func() (err error) {
		favorites, err = g.deps.Favorites.MGetUserFavoriteStats(gctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: userIDs})
		return wrap("get favorite stats", err)
	})
	grp.Go(func() (err error) {
		works, err = g.deps.Videos.MGetWorkCounts(gctx, &videoapi.MGetWorkCountsRequest{UserIds: userIDs, ViewerId: viewer})
		return wrap("get work counts", err)
	})
	if err := grp.Wait(); err != nil {
		return nil, err
	}
	urlBase := g.urlBase(c)
	for _, id := range userIDs {
		p, ok := profiles.Users[id]
		if !ok {
			continue
		}
		u := &base.User{
			ID:              id,
			Name:            p.Name,
			Avatar:          absoluteURL(urlBase, p.Avatar),
			BackgroundImage: absoluteURL(urlBase, p.BackgroundImage),
			Signature:       p.Signature,
			WorkCount:       works.WorkCounts[id],
		}
		if r := relations.Users[id]; r != nil {
			u.FollowCount, u.FollowerCount, u.IsFollow = r.FollowCount, r.FollowerCount, r.IsFollow && viewer != id
		}
		if f := favorites.Users[id]; f != nil {
			u.FavoriteCount, u.TotalFavorited = f.FavoriteCount, f.TotalFavorited
		}
		out[id] = u
	}
	return out, nil
}

// usersInOrder returns users for ids in the given order, skipping ids that no longer exist.
func (g *Gateway) usersInOrder(ctx context.Context, c *app.RequestContext, viewer int64, userIDs []int64) ([]*base.User, error) {
	byID, err := g.users(ctx, c, viewer, userIDs)
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
// favorite counts and flags, and comment counts come from parallel batch calls.
func (g *Gateway) videos(ctx context.Context, c *app.RequestContext, viewer int64, records []*videoapi.VideoRecord) ([]*base.Video, error) {
	out := make([]*base.Video, 0, len(records))
	if len(records) == 0 {
		return out, nil
	}
	videoIDs := make([]int64, len(records))
	authorIDs := make([]int64, len(records))
	for i, r := range records {
		videoIDs[i], authorIDs[i] = r.Id, r.AuthorId
	}
	var (
		authors   map[int64]*base.User
		favorites *favoriteapi.MGetVideoFavoritesResponse
		comments  *commentapi.MGetCommentCountsResponse
	)
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() (err error) {
		authors, err = g.users(gctx, c, viewer, authorIDs)
		return err
	})
	grp.Go(func() (err error) {
		favorites, err = g.deps.Favorites.MGetVideoFavorites(gctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: viewer, VideoIds: videoIDs})
		return wrap("get video favorites", err)
	})
	grp.Go(func() (err error) {
		comments, err = g.deps.Comments.MGetCommentCounts(gctx, &commentapi.MGetCommentCountsRequest{VideoIds: videoIDs})
		return wrap("get comment counts", err)
	})
	if err := grp.Wait(); err != nil {
		return nil, err
	}
	urlBase := g.urlBase(c)
	for _, r := range records {
		author, ok := authors[r.AuthorId]
		if !ok {
			continue // the author is gone; never show a video without one
		}
		v := &base.Video{
			ID:           r.Id,
			Author:       author,
			PlayURL:      absoluteURL(urlBase, r.PlayUrl),
			CoverURL:     absoluteURL(urlBase, coverOf(r)),
			Title:        r.Title,
			CommentCount: comments.CommentCounts[r.Id],
			Renditions:   make([]*base.Rendition, 0, len(r.Renditions)),
		}
		for _, rd := range r.Renditions {
			v.Renditions = append(v.Renditions, &base.Rendition{Height: rd.Height, Width: rd.Width, URL: absoluteURL(urlBase, rd.Url)})
		}
		if f := favorites.Videos[r.Id]; f != nil {
			v.FavoriteCount, v.IsFavorite = f.FavoriteCount, f.IsFavorite
		}
		out = append(out, v)
	}
	return out, nil
}

// videosByID loads ready videos by id, in the order given, and assembles them.
func (g *Gateway) videosByID(ctx context.Context, c *app.RequestContext, viewer int64, videoIDs []int64) ([]*base.Video, error) {
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
	return g.videos(ctx, c, viewer, records)
}

// wrap names the failed call; business errors pass through unchanged for the error table.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", action, err)
}
