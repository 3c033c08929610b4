package gateway

import (
	"sync"

	"github.com/bytedance/sonic/encoder"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
)

// jsonOptions are sonic.ConfigStd's (what c.JSON encodes with) but EscapeHTML, which
// jsonBody.Render applies itself, straight into the response body.
const jsonOptions = encoder.SortMapKeys | encoder.CompactMarshaler | encoder.ValidateString

// maxPooledJSON bounds the encoding buffers kept for reuse: a rare huge page is not held.
const maxPooledJSON = 256 << 10

// jsonBody renders v with the bytes c.JSON would write, without its two copies of the page
// (sonic's result, then the body): v is encoded into a reused buffer and HTML-escaped from
// there into the response body. A feed page is ~20 KB, so that was a fifth of the bytes a
// logged-in feed request allocated.
type jsonBody struct {
	v    any
	bufs *sync.Pool // of *[]byte
}

func (r jsonBody) Render(resp *protocol.Response) error {
	r.WriteContentType(resp)
	buf := r.bufs.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledJSON {
			*buf = (*buf)[:0]
			r.bufs.Put(buf)
		}
	}()
	body := resp.BodyBuffer()
	var err error
	body.B, err = appendJSON(body.B, buf, r.v)
	return err
}

// appendJSON appends v to dst as c.JSON encodes it, encoding into scratch first.
func appendJSON(dst []byte, scratch *[]byte, v any) ([]byte, error) {
	*scratch = (*scratch)[:0]
	if err := encoder.EncodeInto(scratch, v, jsonOptions); err != nil {
		return dst, err
	}
	return encoder.HTMLEscape(dst, *scratch), nil
}

func (jsonBody) WriteContentType(resp *protocol.Response) {
	resp.Header.SetContentType(consts.MIMEApplicationJSONUTF8)
}

// newJSONBuffers is the pool of jsonBody's encoding buffers.
func newJSONBuffers() *sync.Pool {
	return &sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}
}
