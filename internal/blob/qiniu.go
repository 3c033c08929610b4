package blob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	qiniuclient "github.com/qiniu/go-sdk/v7/client"
	"github.com/qiniu/go-sdk/v7/storagev2/apis"
	"github.com/qiniu/go-sdk/v7/storagev2/credentials"
	httpclient "github.com/qiniu/go-sdk/v7/storagev2/http_client"
	"github.com/qiniu/go-sdk/v7/storagev2/region"
	"github.com/qiniu/go-sdk/v7/storagev2/resolver"
	"github.com/qiniu/go-sdk/v7/storagev2/uploader"
	"github.com/qiniu/go-sdk/v7/storagev2/uplog"
	"github.com/qiniu/go-sdk/v7/storagev2/uptoken"
)

const (
	// uploadTokenTTL bounds each upload token. The token provider signs a fresh token for
	// every request of an upload, so it only has to outlive one request (one form body or
	// one part), not a whole multi-gigabyte upload.
	uploadTokenTTL = 15 * time.Minute
	// partSize and uploadConcurrency bound a multipart upload's memory: the SDK buffers each
	// part of a stream, so at most (uploadConcurrency+1)*partSize bytes are held per upload.
	partSize          = 4 << 20
	uploadConcurrency = 4
	// uploadReturnBody makes Qiniu echo the stored key and size, so Put can tell a complete
	// object from a truncated one.
	uploadReturnBody = `{"key":"$(key)","hash":"$(etag)","fsize":$(fsize)}`
	// statusNoSuchEntry is Qiniu's status code for a missing object on management calls.
	statusNoSuchEntry = 612
)

// Qiniu stores objects in a Qiniu Kodo bucket: uploads through the up hosts, deletes
// through the management (rs) hosts, and downloads from the bucket's public or CDN domain.
type Qiniu struct {
	bucket  string
	domain  string
	private bool
	urlTTL  time.Duration
	creds   *credentials.Credentials
	uploads *uploader.UploadManager
	api     *apis.Storage
	http    *http.Client
}

// QiniuOption adjusts NewQiniu.
type QiniuOption func(*qiniuOptions)

type qiniuOptions struct {
	httpClient *http.Client
}

// WithHTTPClient sends every request of the store (uploads, deletes, downloads) through c,
// for instance one whose transport refuses every host but a test server.
func WithHTTPClient(c *http.Client) QiniuOption {
	return func(o *qiniuOptions) { o.httpClient = c }
}

// NewQiniu returns a store for cfg's bucket. It makes no request: a wrong key or bucket shows
// up on the first Put or Delete.
//
// Unless cfg.Uplog is set it switches the SDK's upload logging off. That switch is
// process-wide in the SDK, so build stores before uploads start; off is the right default
// for a server, whose upload logs would otherwise be buffered in TMPDIR and posted, with an
// upload token, to Qiniu.
func NewQiniu(cfg QiniuConfig, opts ...QiniuOption) (*Qiniu, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("qiniu blob store: %w", err)
	}
	accessKey, secretKey, err := cfg.credentials()
	if err != nil {
		return nil, fmt.Errorf("qiniu blob store: %w", err)
	}
	var o qiniuOptions
	for _, opt := range opts {
		opt(&o)
	}
	client := o.httpClient
	if client == nil {
		client = defaultQiniuHTTPClient()
	}
	// The SDK keeps the switch in an unsynchronised variable its upload paths read, so it is
	// written only when it changes.
	if uplog.IsUplogEnabled() != cfg.Uplog {
		if cfg.Uplog {
			uplog.EnableUplog()
		} else {
			uplog.DisableUplog()
		}
	}

	creds := credentials.NewCredentials(accessKey, secretKey)
	options := httpclient.Options{
		BasicHTTPClient:     client,
		Credentials:         creds,
		UseInsecureProtocol: !cfg.UseHTTPS,
		// The SDK's resolver feeds IPs to its own dialer, which our client does not use; it
		// would only add DNS lookups and a cache file in TMPDIR.
		Resolver: resolver.NewEmptyResolver(),
	}
	if r := qiniuRegion(cfg); r != nil {
		options.Regions = r
	} // else the SDK asks Qiniu's bucket service for the bucket's region and caches the answer.

	return &Qiniu{
		bucket:  cfg.Bucket,
		domain:  strings.TrimRight(cfg.Domain, "/"),
		private: cfg.Private,
		urlTTL:  cfg.URLTTL,
		creds:   creds,
		uploads: uploader.NewUploadManager(&uploader.UploadManagerOptions{
			Options:                   options,
			PartSize:                  partSize,
			MultiPartsThreshold:       uint64(cfg.ResumableThreshold),
			Concurrency:               uploadConcurrency,
			MultiPartsUploaderVersion: uploader.MultiPartsUploaderVersionV2,
		}),
		api:  apis.NewStorage(&options),
		http: client,
	}, nil
}

// defaultQiniuHTTPClient has no overall timeout, since an upload or a download may rightly
// take minutes and callers bound it with their context, but it gives up on a server that
// accepted a request and never answers.
func defaultQiniuHTTPClient() *http.Client {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{Transport: http.DefaultTransport}
	}
	t = t.Clone()
	t.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: t}
}

// qiniuRegion returns the fixed region the settings describe, or nil to look it up.
func qiniuRegion(cfg QiniuConfig) *region.Region {
	if cfg.Region == "" && len(cfg.UpHosts) == 0 && len(cfg.RSHosts) == 0 {
		return nil
	}
	r := &region.Region{}
	if cfg.Region != "" {
		r = region.GetRegionByID(cfg.Region, cfg.UseHTTPS)
	}
	if len(cfg.UpHosts) > 0 {
		r.Up = region.Endpoints{Preferred: append([]string(nil), cfg.UpHosts...)}
	}
	if len(cfg.RSHosts) > 0 {
		r.Rs = region.Endpoints{Preferred: append([]string(nil), cfg.RSHosts...)}
	}
	return r
}

// uploadResult is what uploadReturnBody makes Qiniu answer.
type uploadResult struct {
	Key  string `json:"key"`
	Hash string `json:"hash"`
	Size int64  `json:"fsize"`
}

// Put streams r to the bucket under key, replacing any previous object. A body of at most
// resumable-threshold bytes goes as one form upload; a longer one, or a stream that turns out
// longer, as a multipart upload read one part at a time, so memory stays bounded whatever the
// size. An interrupted multipart upload leaves no object; its parts expire at Qiniu.
func (q *Qiniu) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if !ValidKey(key) {
		return 0, fmt.Errorf("blob: invalid key %q", key)
	}
	// Wrapping r hides Seek and ReadAt on purpose: with them the SDK would read a seekable
	// source from offset 0 whatever its position, and close it. As a plain stream it peeks
	// up to the threshold to choose the method, then slices parts as it reads.
	body := &countingReader{r: readerWithContext{ctx, r}}
	var stored uploadResult
	err := q.uploads.UploadReader(ctx, body, &uploader.ObjectOptions{
		BucketName: q.bucket,
		ObjectName: &key,
		FileName:   path.Base(key),
		UpToken:    &keyUpToken{creds: q.creds, bucket: q.bucket, key: key},
	}, &stored)
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, explain(ctx, err))
	}
	if stored.Key != key || stored.Size != body.n {
		return 0, fmt.Errorf("blob: put %s: Qiniu stored %q with %d bytes, %d were sent", key, stored.Key, stored.Size, body.n)
	}
	return body.n, nil
}

// Open downloads the object from the bucket's domain, signing the URL for a private bucket.
func (q *Qiniu) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("blob: invalid key %q", key)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.URL(key), nil)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	resp, err := q.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Body, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, ErrNotFound
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("blob: open %s: %s: %s", key, resp.Status, strings.TrimSpace(string(msg)))
	}
}

// Delete removes the object; a missing object is not an error.
func (q *Qiniu) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("blob: invalid key %q", key)
	}
	_, err := q.api.DeleteObject(ctx, &apis.DeleteObjectRequest{Entry: q.bucket + ":" + key}, nil)
	var info *qiniuclient.ErrorInfo
	if errors.As(err, &info) && info.Code == statusNoSuchEntry {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, explain(ctx, err))
	}
	return nil
}

// URL returns the download URL: Domain/key, signed with a deadline URLTTL from now when the
// bucket is private. An invalid key yields "", never a link to something else.
func (q *Qiniu) URL(key string) string {
	if !ValidKey(key) {
		return ""
	}
	segments := strings.Split(key, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	public := q.domain + "/" + strings.Join(segments, "/")
	if !q.private {
		return public
	}
	// Qiniu's private-download scheme: sign "<url>?e=<unix deadline>" and append the token.
	signed := public + "?e=" + strconv.FormatInt(time.Now().Add(q.urlTTL).Unix(), 10)
	return signed + "&token=" + q.creds.Sign([]byte(signed))
}

// keyUpToken is the upload token of one Put: scoped to bucket:key, which lets the upload
// replace an existing object (scope "bucket" alone would be insert-only), and signed afresh
// for every request so that each token expires soon after use.
type keyUpToken struct {
	creds       *credentials.Credentials
	bucket, key string
}

func (t *keyUpToken) GetPutPolicy(context.Context) (uptoken.PutPolicy, error) {
	policy, err := uptoken.NewPutPolicyWithKey(t.bucket, t.key, time.Now().Add(uploadTokenTTL))
	if err != nil {
		return nil, err
	}
	return policy.SetReturnBody(uploadReturnBody), nil
}

func (t *keyUpToken) GetAccessKey(context.Context) (string, error) {
	return t.creds.AccessKey, nil
}

func (t *keyUpToken) GetUpToken(ctx context.Context) (string, error) {
	policy, err := t.GetPutPolicy(ctx)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(policy)
	if err != nil {
		return "", fmt.Errorf("encode put policy: %w", err)
	}
	return t.creds.SignWithData(raw), nil
}

// countingReader counts the bytes the SDK consumed. The SDK reads the source from one
// goroutine (peek, then part slicing), so no lock is needed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// explain adds what the SDK's errors leave out: Qiniu's status code (its message alone, such
// as "bad token", does not say which kind of failure it was), and the context's error, so a
// cancellation is recognisable with errors.Is even where the SDK reports it as plain text.
func explain(ctx context.Context, err error) error {
	var info *qiniuclient.ErrorInfo
	if errors.As(err, &info) {
		err = fmt.Errorf("qiniu status %d: %w", info.Code, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}

var _ Store = (*Qiniu)(nil)
