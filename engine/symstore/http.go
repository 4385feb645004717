package symstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// FetchError is a failed request to an HTTP(S) store: the server could not be reached, dropped
// the connection, went silent past the timeout, answered with an error status or sent more than
// the size limit. A 404 is not an error but a miss.
type FetchError struct {
	URL    string
	Status int   // the HTTP status when the server answered with an error status, else 0
	Err    error // the cause; nil when Status says it all
}

func (e *FetchError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("GET %s: %v", e.URL, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// ErrTimeout is wrapped by a FetchError when a server sent nothing for Options.Timeout.
var ErrTimeout = errors.New("timed out")

// errStalled is the cancel cause the watchdog gives a request.
var errStalled = errors.New("stalled")

const userAgent = "wdbg-symstore/1"

// Progress reports a download: Bytes received so far of Total (-1 when the server does not say).
// Done is set on the last report of a successful download.
type Progress struct {
	Key   Key
	URL   string
	Bytes int64
	Total int64
	Done  bool
}

type fetcher struct {
	client   *http.Client
	timeout  time.Duration
	progress func(Progress)
}

// get downloads url into w, at most limit bytes. found is false, with no error, on 404 or 410.
// The timeout bounds the wait for the response and every gap between pieces of the body, not
// the whole transfer, so a large PDB on a slow link still arrives while a dead server is noticed.
func (f *fetcher) get(ctx context.Context, url string, key Key, w io.Writer, limit int64, report bool) (n int64, found bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(f.timeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	fail := func(err error) error {
		if context.Cause(ctx) == errStalled {
			err = fmt.Errorf("no data for %v: %w", f.timeout, ErrTimeout)
		}
		return &FetchError{URL: url, Err: err}
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false, &FetchError{URL: url, Err: err}
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, false, fail(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // lets the connection be reused
		return 0, false, nil
	case resp.StatusCode != http.StatusOK:
		return 0, false, &FetchError{URL: url, Status: resp.StatusCode}
	}
	total := resp.ContentLength
	if total > limit {
		return 0, false, &FetchError{URL: url, Err: fmt.Errorf("file is %d bytes, more than the %d-byte limit", total, limit)}
	}
	buf := make([]byte, 64<<10)
	for {
		watchdog.Reset(f.timeout)
		m, rerr := resp.Body.Read(buf)
		if m > 0 {
			if n+int64(m) > limit {
				return n, false, &FetchError{URL: url, Err: fmt.Errorf("file is more than the %d-byte limit", limit)}
			}
			if _, err := w.Write(buf[:m]); err != nil {
				return n, false, err
			}
			n += int64(m)
			if report && f.progress != nil {
				f.progress(Progress{Key: key, URL: url, Bytes: n, Total: total})
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, false, fail(rerr)
		}
	}
	if total >= 0 && n != total {
		return n, false, &FetchError{URL: url, Err: fmt.Errorf("got %d of %d bytes: %w", n, total, io.ErrUnexpectedEOF)}
	}
	if report && f.progress != nil {
		f.progress(Progress{Key: key, URL: url, Bytes: n, Total: total, Done: true})
	}
	return n, true, nil
}
