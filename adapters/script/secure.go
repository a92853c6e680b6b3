package script

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Reasons a script cannot run. Errors returned by Inspect and CheckSecure
// are *Error values wrapping one of these.
var (
	// ErrNotFound: the file does not exist or cannot be reached by the
	// user that runs it.
	ErrNotFound = errors.New("not found or not accessible")
	// ErrNotExecutable: the file is not executable by the user and group
	// that run it.
	ErrNotExecutable = errors.New("not executable")
	// ErrInsecure: the script runs as root (or is set-uid/gid root) and
	// the file or a directory on its path is writable by a non-root user.
	// keepalived refuses such scripts only with enable_script_security.
	ErrInsecure = errors.New("unsafe permissions")
	// ErrWrongType: a component of the path that should be a directory is
	// not one (keepalived refuses these whatever the security setting).
	ErrWrongType = errors.New("wrong file type in script path")
)

// Error explains why a script may not run.
type Error struct {
	// Script is the command as configured (its first word).
	Script string
	// Path is the file or directory at fault.
	Path string
	// Err is one of ErrNotFound, ErrNotExecutable, ErrInsecure, ErrWrongType.
	Err error
	// Detail says more, e.g. "writable by group 1000".
	Detail string
}

func (e *Error) Error() string {
	s := "script " + e.Script + ": " + e.Err.Error()
	if e.Path != "" && e.Path != e.Script {
		s += ": " + e.Path
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Resolved is how a command will be executed.
type Resolved struct {
	// Argv is the argument vector; Argv[0] is the program's resolved path
	// (keepalived 2.2.7 rewrites argv[0] to it as well).
	Argv []string
	// Shell is set when the command is run by /bin/sh -c (a bash
	// redirection test such as "</dev/tcp/h/p", or a file the kernel cannot
	// execute, detected at exec time).
	Shell bool
	// Protected is set when the script runs with root privileges, so that
	// the path security rules apply.
	Protected bool
	// Insecure, when not nil, is the ErrInsecure finding for a protected
	// script. Whether it prevents the run depends on enable_script_security.
	Insecure error
}

// CheckSecure reports whether argv0 may be run as uid:gid with
// enable_script_security: nil, or an *Error naming the path at fault (not
// found, not executable, or — for a script run as root — a file or directory
// on its path writable by a non-root user). It only reads the file system,
// so `vigil check` can call it.
func CheckSecure(argv0 string, uid, gid int) error {
	id := Identity{UID: uint32(uid), GID: uint32(gid), Groups: []uint32{uint32(gid)}}
	r, err := Inspect([]string{argv0}, id)
	if err != nil {
		return err
	}
	return r.Insecure
}

// Inspect resolves argv as keepalived's check_script_secure does for a script
// run as id: PATH search for a bare name, accessibility and execute
// permission for id, the real path, and — when the script runs with root
// privileges — the ownership and permissions of every path component.
func Inspect(argv []string, id Identity) (Resolved, error) {
	if len(argv) == 0 || argv[0] == "" {
		return Resolved{}, &Error{Script: "(empty)", Err: ErrNotFound}
	}
	a0 := argv[0]
	if isRedirectionTest(a0) {
		// keepalived hands these to the shell without checking a file.
		return Resolved{Argv: argv, Shell: true}, nil
	}
	fail := func(path string, err error, detail string) (Resolved, error) {
		return Resolved{}, &Error{Script: a0, Path: path, Err: err, Detail: detail}
	}
	path := a0
	if !strings.Contains(a0, "/") {
		p, err := searchPath(a0, id)
		if err != nil {
			return fail("", err, "searched PATH")
		}
		path = p
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if dir, ok := reachable(path, id); !ok {
		return fail(dir, ErrNotFound, "not searchable by "+id.String())
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fail(path, ErrNotFound, errDetail(err))
	}
	// Like keepalived 2.2.7, keep the configured file name when the real
	// file can be reached under it in the real directory (programs may
	// behave differently depending on the name they are called by).
	exe, realFile := real, ""
	if filepath.Base(real) != filepath.Base(path) {
		alias := filepath.Join(filepath.Dir(real), filepath.Base(path))
		if sameFile(alias, real) {
			exe, realFile = alias, real
		}
	}
	st, err := os.Stat(exe)
	if err != nil {
		return fail(exe, ErrNotFound, errDetail(err))
	}
	sys := st.Sys().(*syscall.Stat_t)
	if !st.Mode().IsRegular() {
		return fail(exe, ErrNotExecutable, "not a regular file")
	}
	if !isExecutable(sys, id) {
		return fail(exe, ErrNotExecutable, "for uid:gid "+id.String())
	}
	r := Resolved{Argv: append([]string{exe}, argv[1:]...)}
	r.Protected = id.UID == 0 || id.GID == 0 ||
		(sys.Uid == 0 && sys.Mode&syscall.S_IXUSR != 0 && sys.Mode&syscall.S_ISUID != 0) ||
		(sys.Gid == 0 && sys.Mode&syscall.S_IXGRP != 0 && sys.Mode&syscall.S_ISGID != 0)
	if !r.Protected {
		return r, nil
	}
	for _, p := range []string{exe, realFile} {
		if p == "" {
			continue
		}
		insecure, err := checkPathSecurity(a0, p)
		if err != nil {
			return Resolved{}, err
		}
		if insecure != nil {
			r.Insecure = insecure
			break
		}
	}
	return r, nil
}

// isRedirectionTest reports keepalived's special case of a command that only
// opens a file: '<', optional blanks, then an absolute path.
func isRedirectionTest(a0 string) bool {
	if a0[0] != '<' {
		return false
	}
	rest := strings.TrimLeft(a0[1:], " \t")
	return strings.HasPrefix(rest, "/")
}

// checkPathSecurity walks every prefix of path, not following symlinks, as
// keepalived's check_security does. It returns a non-nil insecure finding,
// or a hard error when a component is missing or of the wrong type.
func checkPathSecurity(script, path string) (insecure, err error) {
	prefixes := []string{"/"}
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			prefixes = append(prefixes, path[:i])
		}
	}
	prefixes = append(prefixes, path)
	for i, p := range prefixes {
		last := i == len(prefixes)-1
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return nil, &Error{Script: script, Path: p, Err: ErrNotFound, Detail: err.Error()}
		}
		typ := st.Mode & syscall.S_IFMT
		isDir, isReg := typ == syscall.S_IFDIR, typ == syscall.S_IFREG
		if (!last && !isDir) || (last && !isReg && typ != syscall.S_IFLNK) {
			return nil, &Error{Script: script, Path: p, Err: ErrWrongType}
		}
		var detail string
		switch {
		case st.Uid != 0:
			detail = fmt.Sprintf("owned by uid %d", st.Uid)
		case (isDir && st.Mode&syscall.S_ISVTX == 0) || isReg:
			if st.Gid != 0 && st.Mode&syscall.S_IWGRP != 0 {
				detail = fmt.Sprintf("writable by group %d", st.Gid)
			} else if st.Mode&syscall.S_IWOTH != 0 {
				detail = "writable by everyone"
			}
		}
		if detail != "" {
			return &Error{Script: script, Path: p, Err: ErrInsecure, Detail: detail}, nil
		}
	}
	return nil, nil
}

// isExecutable is keepalived's execute-permission rule: root needs any x
// bit; the owner needs the user bit; the file's group the group bit; others
// the other bit (only the primary group is considered).
func isExecutable(st *syscall.Stat_t, id Identity) bool {
	m := st.Mode
	switch {
	case id.UID == 0:
		return m&(syscall.S_IXUSR|syscall.S_IXGRP|syscall.S_IXOTH) != 0
	case id.UID == st.Uid:
		return m&syscall.S_IXUSR != 0
	case id.GID == st.Gid:
		return m&syscall.S_IXGRP != 0
	default:
		return m&syscall.S_IXOTH != 0
	}
}

// reachable reports whether every directory above path can be searched by
// id (keepalived resolves the path with the script user's effective ids).
// It returns the first directory that cannot.
func reachable(path string, id Identity) (string, bool) {
	if id.UID == 0 {
		return "", true
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		var st syscall.Stat_t
		if err := syscall.Stat(dir, &st); err == nil && !canSearch(&st, id) {
			return dir, false
		}
		if dir == "/" || dir == "." {
			return "", true
		}
	}
}

func canSearch(st *syscall.Stat_t, id Identity) bool {
	m := st.Mode
	if id.UID == st.Uid {
		return m&syscall.S_IXUSR != 0
	}
	for _, g := range append([]uint32{id.GID}, id.Groups...) {
		if g == st.Gid {
			return m&syscall.S_IXGRP != 0
		}
	}
	return m&syscall.S_IXOTH != 0
}

// searchPath finds a bare command name in PATH as execvp would, with
// keepalived's execute-permission rule for id.
func searchPath(name string, id Identity) (string, error) {
	pathEnv, ok := os.LookupEnv("PATH")
	if !ok {
		pathEnv = "/bin:/usr/bin" // glibc's _CS_PATH
	}
	denied := false
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		var st syscall.Stat_t
		if syscall.Stat(p, &st) != nil {
			continue
		}
		if _, ok := reachable(p, id); ok && st.Mode&syscall.S_IFMT == syscall.S_IFREG && isExecutable(&st, id) {
			return p, nil
		}
		denied = true
	}
	if denied {
		return "", ErrNotExecutable
	}
	return "", ErrNotFound
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func errDetail(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
