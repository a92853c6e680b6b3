package daemon

import "errors"

// Errors of the daemon's own machinery.
var (
	// ErrKernelQueueFull: a netlink effect was dropped because the queue in
	// front of the netlink executor was full.
	ErrKernelQueueFull = errors.New("netlink effect queue full")
	// ErrUnsupportedConfig: the configuration asks for something vigil does
	// not implement in a way that would make running it unsafe.
	ErrUnsupportedConfig = errors.New("unsupported configuration")
)
