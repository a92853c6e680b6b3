package main

import (
	"fmt"
	"strings"
)

// argKind says whether an option takes an argument.
type argKind uint8

const (
	noArg argKind = iota
	requiredArg
	// optionalArg: only as --long=VALUE or -xVALUE, as getopt_long does.
	optionalArg
)

// option is one command-line option in getopt_long's terms.
type option struct {
	short rune // 0 when there is none
	long  string
	arg   argKind
	help  string
	// argName names the argument in the help text.
	argName string
}

// parsedOpt is an option found on the command line.
type parsedOpt struct {
	opt   *option
	value string
	has   bool // an (optional) argument was given
}

// getopt parses args as glibc's getopt_long does for keepalived: short
// options may be grouped (-nlD) and take their argument attached (-fFILE)
// or as the next word (-f FILE); long options take --name=VALUE or
// --name VALUE, and may be abbreviated to any unambiguous prefix; "--" ends
// the options. Non-option words are returned in rest.
func getopt(opts []option, args []string) (found []parsedOpt, rest []string, err error) {
	for k := 0; k < len(args); k++ {
		a := args[k]
		switch {
		case a == "--":
			return found, append(rest, args[k+1:]...), nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			o, err := findLong(opts, name)
			if err != nil {
				return nil, nil, err
			}
			p := parsedOpt{opt: o}
			switch o.arg {
			case noArg:
				if hasVal {
					return nil, nil, fmt.Errorf("option '--%s' doesn't allow an argument", o.long)
				}
			case requiredArg:
				if !hasVal {
					if k+1 >= len(args) {
						return nil, nil, fmt.Errorf("option '--%s' requires an argument", o.long)
					}
					k++
					val = args[k]
				}
				p.value, p.has = val, true
			case optionalArg:
				p.value, p.has = val, hasVal
			}
			found = append(found, p)
		case len(a) > 1 && a[0] == '-':
			rs := []rune(a[1:])
			for j := 0; j < len(rs); j++ {
				o := findShort(opts, rs[j])
				if o == nil {
					return nil, nil, fmt.Errorf("invalid option -- '%c'", rs[j])
				}
				p := parsedOpt{opt: o}
				if o.arg != noArg {
					if j+1 < len(rs) {
						p.value, p.has = string(rs[j+1:]), true
					} else if o.arg == requiredArg {
						if k+1 >= len(args) {
							return nil, nil, fmt.Errorf("option requires an argument -- '%c'", rs[j])
						}
						k++
						p.value, p.has = args[k], true
					}
					found = append(found, p)
					break
				}
				found = append(found, p)
			}
		default:
			rest = append(rest, a)
		}
	}
	return found, rest, nil
}

func findShort(opts []option, r rune) *option {
	for k := range opts {
		if opts[k].short == r && r != 0 {
			return &opts[k]
		}
	}
	return nil
}

// findLong finds an option by its long name or an unambiguous prefix.
func findLong(opts []option, name string) (*option, error) {
	var match *option
	n := 0
	for k := range opts {
		if opts[k].long == name {
			return &opts[k], nil
		}
		if opts[k].long != "" && strings.HasPrefix(opts[k].long, name) {
			match = &opts[k]
			n++
		}
	}
	switch {
	case name == "" || n == 0:
		return nil, fmt.Errorf("unrecognized option '--%s'", name)
	case n > 1:
		return nil, fmt.Errorf("option '--%s' is ambiguous", name)
	}
	return match, nil
}
