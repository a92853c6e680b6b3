package manpage

import (
	"fmt"
	"strings"
	"testing"
)

// sample is troff in the man page's style, with each case the extractor
// must get right.
const sample = `.SH DESCRIPTION
\fBkeepalived.conf\fR is the configuration file.
\fBinclude\fR FILENAME
.br
\fBincluder\fR FILENAME - same as include_check readable
.SH GLOBAL CONFIGURATION
contains subblocks of \fBGlobal definitions,\fR and \fBNOT\fR keywords.
.nf
# Set the network namespace to run in.
\fBnet_namespace \fRNAME

Note: All processes/scripts run by keepalived are run with parent death signal set
to SIGTERM. All such processes/scripts should either not change the action for
\fBglobal_defs \fR{
    # comment \fBnot_a_keyword\fR
    \fBrouter_id \fR<STRING>
    \fBnotification_email \fR{
        admin@example1.com
        ...
    }
    disable_local_igmp
    \fBlvs_flush_on_stop [VS]\fR
}
	interface_up_down_delays {
	    ifname down_delay [up_delay]
	}
.fi
.SH VRRP
.nf
\fBvrrp_instance \fR<STRING> {
    # <LABEL>: is optional and creates a name for the alias.
               For compatibility with "ifconfig", it should
               be of the form <realdev>:<anytext>, for example
    \fBtrack_interface \fR{
        eth0
        eth2 weight <-253..253> [reverse]
    }
    \fBvirtual_routes \fR{
        src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1
        blackhole 192.168.114.0/24
    }
}
\fBvirtual_server group \fR<STRING> {
    \fBlvs_method \fRNAT|DR
    or
    \fBlvs_method \fRTUN [type {ipip|gue port NUM|gre} [nocsum|csum|remcsum]]
    \fBflag-1\fR
    \fBreal_server \fR<IPADDR> [<PORT>] {
        CHECKER_TYPE {
            \fBconnect_ip \fR<IPADDR>
        }
        \fBHTTP_GET|SSL_GET \fR{
            \fBurl \fR{
                \fBpath \fR<STRING>
            }
        }
        \fBUDP_CHECK \fR{
		\fBpayload\fR <HEX_STR>
		min_reply_length <INT>		# default 0
        }
    }
}
.fi
.SH ADVANCED CONFIGURATION
.nf
    $IF_MAIN \fBpriority \fR240
    \fBglobal_defs \fR{
        @main   \fBrouter_id \fRmain_router
    }
.fi
`

func TestExtract(t *testing.T) {
	var got []string
	for _, k := range Extract(sample) {
		s := k.Block + "/" + k.Name
		if k.Prose {
			s += " (prose)"
		}
		got = append(got, s)
	}
	want := []string{
		"/global_defs", "/include (prose)", "/includer (prose)", "/interface_up_down_delays", "/net_namespace",
		"/virtual_server", "/vrrp_instance",
		"CHECKER_TYPE/connect_ip",
		"HTTP_GET/url", "SSL_GET/url",
		"UDP_CHECK/min_reply_length", "UDP_CHECK/payload",
		"global_defs/disable_local_igmp", "global_defs/lvs_flush_on_stop", "global_defs/notification_email", "global_defs/router_id",
		"real_server/HTTP_GET", "real_server/SSL_GET", "real_server/UDP_CHECK",
		"url/path",
		"virtual_server/flag-1", "virtual_server/lvs_method", "virtual_server/real_server",
		"vrrp_instance/track_interface", "vrrp_instance/virtual_routes",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestExtractLines(t *testing.T) {
	for _, k := range Extract(sample) {
		if k.Name == "router_id" && k.Line != 16 {
			t.Errorf("router_id at line %d, want 16 (the example's, not the advanced section's)", k.Line)
		}
	}
}

// TestExtractInstalled prints what the extractor finds in the installed
// man page with -v (a check of the extractor by eye).
func TestExtractInstalled(t *testing.T) {
	src, err := ReadInstalled()
	if err != nil {
		t.Skipf("keepalived.conf(5) is not installed (%v): install Debian's keepalived package", err)
	}
	ks := Extract(src)
	if testing.Verbose() {
		for _, k := range ks {
			fmt.Printf("%5d %-22s %s\n", k.Line, k.Block, k.Name)
		}
	}
	if len(ks) < 300 {
		t.Errorf("%d keywords found in %s: fewer than the 2.2.7 man page's ~377", len(ks), Installed)
	}
}
