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

// Request is what `vigil status` asks.
type Request struct {
	V   int    `json:"v"`
	Cmd string `json:"cmd"`
	// Instance names the instance to explain.
	Instance string `json:"instance,omitempty"`
}

// Response is the daemon's answer: one of Status, Explain or Error.
type Response struct {
	V       int          `json:"v"`
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

func serveConn(c net.Conn, src Source) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(ServerTimeout))
	line, err := bufio.NewReaderSize(io.LimitReader(c, 64<<10), 4096).ReadBytes('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return fmt.Errorf("control socket: reading the request: %w", err)
	}
	resp := Answer(line, src)
	b, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("control socket: writing the answer: %w", err)
	}
	return nil
}

// Answer is the server's response to one request line.
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
	switch req.Cmd {
	case CmdStatus:
		if resp.Status = src.Snapshot(); resp.Status == nil {
			resp.Error = ErrNotRunning.Error()
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
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("cannot reach vigil at %s: %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	req.V = ProtocolVersion
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return nil, fmt.Errorf("control socket %s: reading the answer: %w", path, err)
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}
