// Package track is the source of vigil's tracker events, watching the world
// as keepalived does:
//
//   - FileWatcher watches track_file files with inotify and reports each new
//     value as *events.TrackFileValue;
//   - ProcessTracker counts the running processes matching each
//     vrrp_track_process, from one scan of /proc and then the kernel's proc
//     connector (fork, exec, comm and exit notifications), and reports each
//     change as *events.ProcessCount.
//
// Both only report facts; weights, quorum and priorities are the engine's.
// Events are identified by the configured block's name.
package track
