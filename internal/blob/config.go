package blob

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/douyin-backend/douyin/internal/config"
)

// Backends selectable with -blob.backend.
const (
	BackendLocal = "local"
	BackendQiniu = "qiniu"
)

// Names of the Qiniu key settings, accepted only from the environment (or the credentials file).
const (
	QiniuAccessKeyFlag = "blob.qiniu.access-key"
	QiniuSecretKeyFlag = "blob.qiniu.secret-key"
)

// SecretFlags lists the settings config.Load must refuse from the command line and the config
// file.
func SecretFlags() []string { return []string{QiniuAccessKeyFlag, QiniuSecretKeyFlag} }

const (
	defaultURLTTL             = time.Hour
	defaultResumableThreshold = 4 << 20
	// maxResumableThreshold bounds the form-upload size: a body below the threshold is held
	// in memory (the SDK buffers it to compute its CRC32), once per concurrent upload.
	maxResumableThreshold = 64 << 20
)

var regionID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Config selects the blob backend.
type Config struct {
	Backend string
	Qiniu   QiniuConfig
}

// RegisterFlags registers the blob settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Backend, "blob.backend", BackendLocal, "object storage: local (a directory under -data.dir, served by the gateway) or qiniu (Qiniu Kodo)")
	c.Qiniu.RegisterFlags(fs)
}

// Validate checks the settings; the Qiniu ones only matter when that backend is selected.
func (c *Config) Validate() error {
	switch c.Backend {
	case BackendLocal:
		return nil
	case BackendQiniu:
		return c.Qiniu.Validate()
	default:
		return fmt.Errorf("blob.backend %q: want %s or %s", c.Backend, BackendLocal, BackendQiniu)
	}
}

// QiniuConfig configures the Qiniu Kodo store.
type QiniuConfig struct {
	Bucket string
	// AccessKey and SecretKey come from the environment; CredentialsFile is the alternative
	// for mounted secrets. Setting both is an error, so there is never a doubt which key is used.
	AccessKey       string
	SecretKey       string
	CredentialsFile string
	// Domain is the public or CDN base URL objects are downloaded from, e.g. https://cdn.example.com.
	Domain string
	// Private buckets need signed download URLs, valid for URLTTL.
	Private bool
	URLTTL  time.Duration
	// Region is a Qiniu region id (z0, z1, na0, …); empty asks Qiniu's bucket service which
	// region holds Bucket. UpHosts and RSHosts override the region's upload and management
	// hosts (private clouds, tests); entries without a scheme follow UseHTTPS.
	Region   string
	UpHosts  []string
	RSHosts  []string
	UseHTTPS bool
	// ResumableThreshold is the size above which Put switches from one form upload to a
	// multipart (resumable v2) upload.
	ResumableThreshold int64
	// Uplog lets the SDK buffer upload logs in TMPDIR and post them to Qiniu. It is a
	// process-wide switch of the SDK.
	Uplog bool
}

// RegisterFlags registers the Qiniu settings.
func (c *QiniuConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Bucket, "blob.qiniu.bucket", "", "Qiniu Kodo bucket holding videos and covers")
	fs.StringVar(&c.AccessKey, QiniuAccessKeyFlag, "", "Qiniu access key (environment only: "+config.EnvName(QiniuAccessKeyFlag)+")")
	fs.StringVar(&c.SecretKey, QiniuSecretKeyFlag, "", "Qiniu secret key (environment only: "+config.EnvName(QiniuSecretKeyFlag)+")")
	fs.StringVar(&c.CredentialsFile, "blob.qiniu.credentials-file", "", `file holding the Qiniu keys: "ACCESS_KEY\nSECRET_KEY", or YAML with access_key and secret_key`)
	fs.StringVar(&c.Domain, "blob.qiniu.domain", "", "base URL clients download objects from, e.g. https://cdn.example.com")
	fs.BoolVar(&c.Private, "blob.qiniu.private", false, "the bucket is private: hand out signed download URLs")
	fs.DurationVar(&c.URLTTL, "blob.qiniu.url-ttl", defaultURLTTL, "lifetime of a signed download URL (private buckets)")
	fs.StringVar(&c.Region, "blob.qiniu.region", "", "Qiniu region id (z0, z1, z2, na0, as0, …); empty looks the bucket's region up at Qiniu")
	fs.Var((*hostList)(&c.UpHosts), "blob.qiniu.up-hosts", "comma-separated upload hosts overriding the region's (private clouds, tests)")
	fs.Var((*hostList)(&c.RSHosts), "blob.qiniu.rs-hosts", "comma-separated management (rs) hosts overriding the region's (private clouds, tests)")
	fs.BoolVar(&c.UseHTTPS, "blob.qiniu.use-https", true, "use HTTPS for region hosts and for up/rs hosts given without a scheme")
	fs.Int64Var(&c.ResumableThreshold, "blob.qiniu.resumable-threshold", defaultResumableThreshold, "objects larger than this many bytes (or streams longer than it) use multipart upload; smaller ones one form upload held in memory")
	fs.BoolVar(&c.Uplog, "blob.qiniu.uplog", false, "let the Qiniu SDK buffer upload logs in TMPDIR and send them to Qiniu (process-wide)")
}

// Validate checks the settings, including that the credentials can be read.
func (c *QiniuConfig) Validate() error {
	if c.Bucket == "" {
		return fmt.Errorf("blob.qiniu.bucket is required for blob.backend=qiniu")
	}
	if strings.ContainsAny(c.Bucket, ":/ ") {
		return fmt.Errorf("blob.qiniu.bucket %q: not a bucket name", c.Bucket)
	}
	if _, _, err := c.credentials(); err != nil {
		return err
	}
	if c.Domain == "" {
		return fmt.Errorf("blob.qiniu.domain is required for blob.backend=qiniu")
	}
	u, err := url.Parse(c.Domain)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("blob.qiniu.domain %q: want an absolute http(s) URL such as https://cdn.example.com", c.Domain)
	}
	if c.Region != "" && !regionID.MatchString(c.Region) {
		return fmt.Errorf("blob.qiniu.region %q: want a Qiniu region id such as z0 or cn-east-2", c.Region)
	}
	if c.Private && c.URLTTL <= 0 {
		return fmt.Errorf("blob.qiniu.url-ttl must be positive for a private bucket")
	}
	if len(c.UpHosts) > 0 && len(c.RSHosts) == 0 && c.Region == "" {
		// Explicit hosts replace the region lookup for every service, so Delete would have
		// nowhere to go.
		return fmt.Errorf("blob.qiniu.up-hosts needs blob.qiniu.rs-hosts or blob.qiniu.region")
	}
	if len(c.RSHosts) > 0 && len(c.UpHosts) == 0 && c.Region == "" {
		return fmt.Errorf("blob.qiniu.rs-hosts needs blob.qiniu.up-hosts or blob.qiniu.region")
	}
	if c.ResumableThreshold <= 0 || c.ResumableThreshold > maxResumableThreshold {
		return fmt.Errorf("blob.qiniu.resumable-threshold %d: want 1..%d bytes", c.ResumableThreshold, maxResumableThreshold)
	}
	return nil
}

// credentials returns the key pair from the environment-fed settings or the credentials file.
func (c *QiniuConfig) credentials() (accessKey, secretKey string, err error) {
	fromEnv := c.AccessKey != "" || c.SecretKey != ""
	switch {
	case fromEnv && c.CredentialsFile != "":
		return "", "", fmt.Errorf("set either %s/%s or blob.qiniu.credentials-file, not both", config.EnvName(QiniuAccessKeyFlag), config.EnvName(QiniuSecretKeyFlag))
	case fromEnv:
		accessKey, secretKey = c.AccessKey, c.SecretKey
	case c.CredentialsFile != "":
		if accessKey, secretKey, err = readCredentialsFile(c.CredentialsFile); err != nil {
			return "", "", err
		}
	default:
		return "", "", fmt.Errorf("missing Qiniu credentials: set %s and %s, or blob.qiniu.credentials-file", config.EnvName(QiniuAccessKeyFlag), config.EnvName(QiniuSecretKeyFlag))
	}
	if accessKey == "" || secretKey == "" {
		return "", "", fmt.Errorf("incomplete Qiniu credentials: both the access key and the secret key are required")
	}
	return accessKey, secretKey, nil
}

// readCredentialsFile accepts the two-line form "ACCESS_KEY\nSECRET_KEY" and a YAML mapping
// with access_key/secret_key (or access-key/secret-key), which is what secret managers tend to
// mount.
func readCredentialsFile(path string) (accessKey, secretKey string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read blob.qiniu.credentials-file: %w", err)
	}
	var doc map[string]string
	if yaml.Unmarshal(raw, &doc) == nil && len(doc) > 0 {
		pick := func(names ...string) string {
			for _, n := range names {
				if v := strings.TrimSpace(doc[n]); v != "" {
					return v
				}
			}
			return ""
		}
		accessKey = pick("access_key", "access-key", "accessKey", "ak")
		secretKey = pick("secret_key", "secret-key", "secretKey", "sk")
		if accessKey == "" || secretKey == "" {
			return "", "", fmt.Errorf("blob.qiniu.credentials-file %s: YAML needs access_key and secret_key", path)
		}
		return accessKey, secretKey, nil
	}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		return "", "", fmt.Errorf(`blob.qiniu.credentials-file %s: want two lines "ACCESS_KEY\nSECRET_KEY" or YAML with access_key and secret_key`, path)
	}
	return lines[0], lines[1], nil
}

// hostList is a comma-separated flag value; the config file's YAML lists arrive joined with
// commas too.
type hostList []string

func (h *hostList) String() string {
	if h == nil {
		return ""
	}
	return strings.Join(*h, ",")
}

func (h *hostList) Set(v string) error {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, strings.TrimRight(part, "/"))
		}
	}
	*h = out
	return nil
}
