package status

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultSocket is where `vigil run` listens and `vigil status` asks,
// unless --control-socket says otherwise.
const DefaultSocket = "/run/vigil/vigil.ctl"

// ProtocolVersion is the control protocol's version.
//
// The protocol: the client connects, writes one Request as a JSON line,
// and reads one Response as a JSON line; the server then closes the
// connection. A Response with Error set is a refusal (unknown command or
// instance, a protocol version the server does not speak).
const ProtocolVersion = 1

// Commands.
const (
	CmdStatus  = "status"
	CmdExplain = "explain"
)

// FormatText, as a status Request's Format, asks for the text `vigil
// status` prints instead of the snapshot: the answer's line is then
// {"v":1,"format":"text"}, and the text itself follows it until the
// server closes the connection. The daemon renders it from the published
// snapshot, so that the client neither decodes ~1 MB of JSON nor formats
// it (at 1,020 instances that was most of the command's time). A daemon
// that does not know Format answers with the snapshot, which the client
// then renders itself.
const FormatText = "text"

// Request is what `vigil status` asks.
type Request struct {
	V   int    `json:"v"`
	Cmd string `json:"cmd"`
	// Instance names the instance to explain.
	Instance string `json:"instance,omitempty"`
	// Format is "" (the snapshot as JSON) or FormatText.
	Format string `json:"format,omitempty"`
}

// Response is the daemon's answer: one of Status, Explain or Error, or
// Format "text" with the text after the line.
type Response struct {
	V       int          `json:"v"`
	Format  string       `json:"format,omitempty"`
	Status  *Snapshot    `json:"status,omitempty"`
	Explain *Explanation `json:"explain,omitempty"`
	Error   string       `json:"error,omitempty"`
}

// Explanation is `vigil status explain INSTANCE`: the instance now, its
// last transitions, and the causal chain — the events that touched it
// since the transition before its last one, in the words of `vigil
// replay explain`.
type Explanation struct {
	// Fresh is false when the loop did not answer in time: the instance
	// then comes from the last published snapshot and there is no chain.
	Fresh    bool      `json:"fresh"`
	Taken    time.Time `json:"taken"`
	Instance Instance  `json:"instance"`
	// Transitions are the last few, oldest first.
	Transitions []Transition `json:"transitions"`
	// Led is the chain that led to the last transition (since the one
	// before it, or the start); Since what touched the instance after it.
	Led   Chain `json:"led"`
	Since Chain `json:"since"`
	// LastAdvert is the last advert received for the instance (nil: none
	// since the daemon started).
	LastAdvert *Advert `json:"last_advert,omitempty"`
	// Text is the explanation as `vigil status explain` prints it.
	Text string `json:"text"`
}

// Chain is a causal chain: its lines, and how many older ones were left
// out.
type Chain struct {
	Lines   []ChainLine `json:"lines"`
	Omitted int         `json:"omitted,omitempty"`
}

// ChainLine is an event (or a run of alike events) and what it did to
// the instance. Times are seconds since the daemon started, as the
// journal's event times.
type ChainLine struct {
	Seq     uint64  `json:"seq"`
	LastSeq uint64  `json:"last_seq"`
	At      float64 `json:"at"`
	LastAt  float64 `json:"last_at"`
	Count   int     `json:"count"`
	Event   string  `json:"event"`
	Effects string  `json:"effects,omitempty"`
}

// Advert is an advert received.
type Advert struct {
	From     string    `json:"from"`
	Priority int       `json:"priority"`
	At       time.Time `json:"at"`
}

// Source is what the server answers from: the daemon's published
// snapshot, and explanations asked of its loop (bounded by timeout).
type Source interface {
	Snapshot() *Snapshot
	Explain(instance string, timeout time.Duration) (*Explanation, error)
}

// ErrNotRunning is a Source's answer before the engine has started.
var ErrNotRunning = errors.New("the daemon is starting: no state yet")

// ServerTimeout bounds a connection: reading the request, asking the
// loop, writing the answer.
const ServerTimeout = 5 * time.Second

// explainTimeout is how long the server waits for the loop.
const explainTimeout = time.Second

// Listen opens the control socket at path, mode 0600 (root only when the
// daemon runs as root), creating its directory (0755) when missing. A
// socket left by a daemon that died is replaced; one that answers is
// another daemon's, and Listen refuses it.
func Listen(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket: %s: another daemon answers there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// Connecting needs write permission on the socket: 0600 keeps it to
	// its owner whatever the umask was.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// Serve answers connections on ln until it is closed. Each connection is
// served on its own goroutine; a failed one is reported to logErr (nil:
// ignored).
func Serve(ln net.Listener, src Source, logErr func(error)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if logErr != nil {
				logErr(err)
			}
			time.Sleep(100 * time.Millisecond) // EMFILE and the like
			continue
		}
		go func() {
			if err := serveConn(c, src); err != nil && logErr != nil {
				logErr(err)
			}
		}()
	}
}

// textBufs hold the text answers being written: ~0.7 MB at 1,020
// instances, reused rather than allocated per request in the daemon.
var textBufs = sync.Pool{New: func() any { return new([]byte) }}

// textHeader is the line before a text answer.
var textHeader = []byte(fmt.Sprintf(`{"v":%d,"format":%q}`+"\n", ProtocolVersion, FormatText))

func serveConn(c net.Conn, src Source) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(ServerTimeout))
	line, err := bufio.NewReaderSize(io.LimitReader(c, 64<<10), 4096).ReadBytes('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return fmt.Errorf("control socket: reading the request: %w", err)
	}
	resp := Answer(line, src)
	var b []byte
	if resp.Format == FormatText {
		bp := textBufs.Get().(*[]byte)
		defer textBufs.Put(bp)
		b = AppendText(append((*bp)[:0], textHeader...), resp.Status, time.Now())
		*bp = b
	} else if b, err = json.Marshal(resp); err != nil {
		return fmt.Errorf("control socket: %w", err)
	} else {
		b = append(b, '\n')
	}
	if _, err := c.Write(b); err != nil {
		return fmt.Errorf("control socket: writing the answer: %w", err)
	}
	return nil
}

// Answer is the server's response to one request line. A text answer
// (Format "text") carries the snapshot in Status for the server to
// render after the line; it is not sent as JSON.
func Answer(line []byte, src Source) *Response {
	resp := &Response{V: ProtocolVersion}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		resp.Error = "bad request: " + err.Error()
		return resp
	}
	if req.V != ProtocolVersion {
		resp.Error = fmt.Sprintf("protocol version %d not spoken (this daemon speaks %d)", req.V, ProtocolVersion)
		return resp
	}
	if req.Format != "" && (req.Format != FormatText || req.Cmd != CmdStatus) {
		resp.Error = fmt.Sprintf("format %q not served for %q", req.Format, req.Cmd)
		return resp
	}
	switch req.Cmd {
	case CmdStatus:
		if resp.Status = src.Snapshot(); resp.Status == nil {
			resp.Error = ErrNotRunning.Error()
		} else if req.Format == FormatText {
			resp.Format = FormatText
		}
	case CmdExplain:
		ex, err := src.Explain(req.Instance, explainTimeout)
		if err != nil {
			resp.Error = err.Error()
		} else {
			resp.Explain = ex
		}
	default:
		resp.Error = fmt.Sprintf("unknown command %q", req.Cmd)
	}
	return resp
}

// Query sends req (its version set) to the daemon at path and returns
// its answer; an answer with Error set is returned as an error.
func Query(path string, req Request, timeout time.Duration) (*Response, error) {
	var resp Response
	if err := query(path, req, timeout, &resp, nil); err != nil {
		return nil, err
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}

// RawResponse is a Response whose answer is left as the JSON it came in.
type RawResponse struct {
	V       int             `json:"v"`
	Format  string          `json:"format,omitempty"`
	Status  json.RawMessage `json:"status,omitempty"`
	Explain json.RawMessage `json:"explain,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// QueryRaw is Query without decoding the answer (`vigil status --json`
// prints it as it came).
func QueryRaw(path string, req Request, timeout time.Duration) (*RawResponse, error) {
	var resp RawResponse
	if err := query(path, req, timeout, &resp, nil); err != nil {
		return nil, err
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}

// QueryText asks the daemon at path for its status as text and copies
// it to w. A daemon that answers with the snapshot instead (one older
// than FormatText) has it rendered here.
func QueryText(path string, timeout time.Duration, w io.Writer) error {
	var resp Response
	return query(path, Request{Cmd: CmdStatus, Format: FormatText}, timeout, &resp, func(rest io.Reader) error {
		switch {
		case resp.Error != "":
			return errors.New(resp.Error)
		case resp.Format == FormatText:
			if _, err := io.Copy(w, rest); err != nil {
				return fmt.Errorf("control socket %s: reading the answer: %w", path, err)
			}
			return nil
		case resp.Status != nil:
			_, err := w.Write(AppendText(nil, resp.Status, time.Now()))
			return err
		}
		return fmt.Errorf("control socket %s: an answer with neither text nor status", path)
	})
}

// query sends req and decodes the answer's line into resp; then, when
// rest is given, hands it what follows the line.
func query(path string, req Request, timeout time.Duration, resp any, rest func(io.Reader) error) error {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return fmt.Errorf("cannot reach vigil at %s: %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	req.V = ProtocolVersion
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	br := bufio.NewReaderSize(c, 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return fmt.Errorf("control socket %s: reading the answer: %w", path, err)
	}
	if err := json.Unmarshal(line, resp); err != nil {
		return fmt.Errorf("control socket %s: reading the answer: %w", path, err)
	}
	if rest != nil {
		return rest(br)
	}
	return nil
}
