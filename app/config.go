package app

import (
	"flag"
	"fmt"
	"strings"

	"github.com/douyin-backend/douyin/gateway"
	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/moderation"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/internal/rpc"
	"github.com/douyin-backend/douyin/internal/telemetry"
	"github.com/douyin-backend/douyin/services/media"
	"github.com/douyin-backend/douyin/services/recommend"
	"github.com/douyin-backend/douyin/services/video"
)

// Config is the whole process configuration, composed of each package's own.
type Config struct {
	Target    string
	DataDir   string
	Seed      bool
	HTTP      gateway.Config
	DB        db.Config
	Auth      auth.Config
	RPC       rpc.Config
	Identity  rpc.IdentityConfig
	Blob      blob.Config
	MQ        mq.Config
	Cache     cache.Config
	Telemetry telemetry.Config
	Media     media.Config
	// Moderation is applied by the gateway, before any service stores user text.
	Moderation moderation.Config
	Sweeper    video.SweeperConfig
	Recommend  recommend.Config
}

// Secrets are the settings accepted only from the environment (config.Load enforces it).
func Secrets() []string {
	var c Config
	secrets := []string{auth.SecretFlag, rpc.CallerKeyFlag}
	secrets = append(secrets, blob.SecretFlags()...)
	secrets = append(secrets, c.Cache.SecretFlags()...)
	return append(secrets, db.SecretFlags()...)
}

// RegisterFlags registers every setting of the process.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Target, "target", All, "comma-separated modules to run in this process: "+strings.Join(Targets(), ", "))
	fs.StringVar(&c.DataDir, "data.dir", "./data", "directory of the embedded mode's SQLite file, blobs and token key")
	fs.BoolVar(&c.Seed, "seed.enabled", true, "seed demo users and videos on the first start of the embedded mode")
	c.HTTP.RegisterFlags(fs)
	c.DB.RegisterFlags(fs)
	c.Auth.RegisterFlags(fs)
	c.RPC.RegisterFlags(fs)
	c.Identity.RegisterFlags(fs)
	c.Blob.RegisterFlags(fs)
	c.MQ.RegisterFlags(fs)
	c.Cache.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs)
	c.Moderation.RegisterFlags(fs)
	// Both take their defaults from the receiver (media finds ffmpeg on PATH).
	c.Media = media.DefaultConfig()
	c.Media.RegisterFlags(fs)
	c.Sweeper = video.DefaultSweeperConfig()
	c.Sweeper.RegisterFlags(fs)
	c.Recommend = recommend.DefaultConfig()
	c.Recommend.RegisterFlags(fs)
}

// Validate checks the composed configuration.
func (c *Config) Validate() error {
	for _, t := range c.Targets() {
		if !isTarget(t) {
			return fmt.Errorf("-target: unknown module %q (want one of %s)", t, strings.Join(Targets(), ", "))
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("data.dir must not be empty")
	}
	if err := c.HTTP.Validate(); err != nil {
		return err
	}
	if err := c.Telemetry.Validate(); err != nil {
		return err
	}
	if err := c.Auth.Validate(); err != nil {
		return err
	}
	if err := c.RPC.Validate(); err != nil {
		return err
	}
	if err := c.Blob.Validate(); err != nil {
		return err
	}
	if err := c.MQ.Validate(); err != nil {
		return err
	}
	if err := c.Cache.Validate(); err != nil {
		return err
	}
	if err := c.Moderation.Validate(); err != nil {
		return err
	}
	if err := c.Media.Validate(); err != nil {
		return err
	}
	if err := c.Recommend.Validate(); err != nil {
		return err
	}
	if err := c.Sweeper.Validate(); err != nil {
		return err
	}
	return c.DB.Validate()
}

// Targets splits -target into module names.
func (c *Config) Targets() []string {
	var out []string
	for _, t := range strings.Split(c.Target, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Embedded reports whether the process runs on the embedded defaults (SQLite, in-process
// cache and queue, local blobs): the only mode in which every module shares one process.
func (c *Config) Embedded() bool { return c.DB.Driver == db.DriverSQLite }
