// Package script executes vigil's script effects the way keepalived does:
// notify scripts and notify FIFOs (effects.Notify), track scripts
// (effects.RunScript, reported back as events.ScriptResult), and the
// enable_script_security checks that decide whether a script may run at all.
//
// How keepalived runs a script, and so how this package does:
//
//   - The configured words are executed directly with execve (no shell), with
//     the resolved file as the program and the configured words as argv. A
//     file the kernel cannot execute (a script without a "#!" line) or a
//     command starting with '<' or '>' (a bash redirection test such as
//     "</dev/tcp/host/port") is instead run by /bin/sh -c with every word
//     single-quoted, as keepalived's system() fallback does.
//   - The child runs as the script's user and group, in its own process group
//     (so a timeout kills everything it started), with stdin/stdout/stderr on
//     /dev/null, keepalived's environment minus IFS, LD_PRELOAD and
//     LD_LIBRARY_PATH, and SIGTERM as its parent-death signal.
//   - A bare command name is searched for in PATH.
//
// Nothing here blocks its caller: work is queued to goroutines on bounded
// queues, and a full queue drops the work and counts it.
package script
