// Package seed fills a fresh installation with a few demo users and real playable videos,
// so the first feed a newcomer opens is not empty. It goes through the services like any
// client, so seeded data obeys every rule (counters, processing, covers).
package seed

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// assets are 4-second 360x640 H.264/AAC clips made with ffmpeg's lavfi sources, faststart.
//
//go:embed assets/*.mp4
var assets embed.FS

// Deps are the services the seed writes through.
type Deps struct {
	Users     userapi.UserService
	Videos    videoapi.VideoService
	Favorites favoriteapi.FavoriteService
	Comments  commentapi.CommentService
	Relations relationapi.RelationService
	Messages  messageapi.MessageService
	Blobs     blob.Store
}

type demo struct {
	username, asset, title string
}

// demos are the seeded accounts and their clips.
func demos() []demo {
	return []demo{
		{"testcard@douyin.demo", "testsrc.mp4", "测试卡 · Test card"},
		{"mandelbrot@douyin.demo", "mandelbrot.mp4", "曼德博集合 · Mandelbrot set"},
		{"rule30@douyin.demo", "cellauto.mp4", "元胞自动机 · Rule 30"},
	}
}

// Run seeds the demo content once. It reports false without changing anything when the
// first demo user already exists (the installation was seeded before).
func Run(ctx context.Context, d Deps) (bool, error) {
	demos := demos()
	userIDs := make([]int64, len(demos))
	for i, demo := range demos {
		reg, err := d.Users.Register(ctx, &userapi.RegisterRequest{Username: demo.username, Password: randomPassword()})
		if errs.Is(err, base.ErrCode_UserAlreadyExists) && i == 0 {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("seed user %s: %w", demo.username, err)
		}
		userIDs[i] = reg.UserId
	}
	videoIDs := make([]int64, len(demos))
	for i, demo := range demos {
		clip, err := assets.ReadFile("assets/" + demo.asset)
		if err != nil {
			return false, err
		}
		key := "seed/" + demo.asset
		if _, err := d.Blobs.Put(ctx, key, bytes.NewReader(clip)); err != nil {
			return false, fmt.Errorf("seed video %s: %w", demo.asset, err)
		}
		created, err := d.Videos.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: userIDs[i], Title: demo.title, SourceKey: key})
		if err != nil {
			return false, fmt.Errorf("seed video %s: %w", demo.asset, err)
		}
		videoIDs[i] = created.VideoId
	}
	// A little social life: the first two are friends and chat, everyone likes the first video.
	steps := []func() error{
		func() error { return follow(ctx, d, userIDs[0], userIDs[1]) },
		func() error { return follow(ctx, d, userIDs[1], userIDs[0]) },
		func() error { return follow(ctx, d, userIDs[2], userIDs[0]) },
		func() error {
			_, err := d.Messages.SendMessage(ctx, &messageapi.SendMessageRequest{FromUserId: userIDs[1], ToUserId: userIDs[0], Content: "你好！欢迎来到极简抖音 👋"})
			return err
		},
		func() error {
			_, err := d.Comments.PostComment(ctx, &commentapi.PostCommentRequest{UserId: userIDs[1], VideoId: videoIDs[0], Content: "经典的测试卡！"})
			return err
		},
	}
	for _, liker := range userIDs[1:] {
		steps = append(steps, func() error {
			_, err := d.Favorites.FavoriteAction(ctx, &favoriteapi.FavoriteActionRequest{UserId: liker, VideoId: videoIDs[0], ActionType: favoriteapi.FavoriteActionType_Like})
			return err
		})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return false, fmt.Errorf("seed social data: %w", err)
		}
	}
	return true, nil
}

func follow(ctx context.Context, d Deps, from, to int64) error {
	_, err := d.Relations.RelationAction(ctx, &relationapi.RelationActionRequest{UserId: from, ToUserId: to, ActionType: relationapi.RelationActionType_Follow})
	return err
}

// randomPassword makes demo accounts that nobody can log into: seeding never ships a known
// credential.
func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
