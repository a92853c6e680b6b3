package rtnames

import (
	"os"
	"path/filepath"
	"testing"
)

// tree writes files under a temporary directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestSearchOrder(t *testing.T) {
	root := tree(t, map[string]string{
		"etc/rt_tables": "# reserved values\n255\tlocal\n254 main\n100 etc   # comment\n0x65 hex\n  7 seven extra\n-1 neg\n300 dup\n",
		// Not read: the etc file exists.
		"usr/rt_tables":              "101 usronly\n",
		"usr/rt_tables.d/a.conf":     "102 usr_d\n300 dup_from_usr\n",
		"usr/rt_tables.d/b.conf":     "103 shadowed\n",
		"usr/rt_tables.d/.hid.conf":  "104 hidden\n",
		"usr/rt_tables.d/c.txt":      "105 notconf\n",
		"etc/rt_tables.d/b.conf":     "106 etc_d\n",
		"etc/rt_tables.d/z.conf":     "107 later\n108 dup\n",
		"etc/rt_tables.d/.conf":      "109 noname\n",
		"etc/rt_realms":              "12 PQA\n",
		"usr/rt_protos":              "77 myproto\n",
		"usr/rt_dsfield":             "0x28\tAF11\n",
		"etc/group":                  "0 default\n5 grp\n",
		"protocols":                  "udp\t17\tUDP\t\t# user datagram protocol\nvrrp 112 VRRP\n",
		"etc/rt_scopes":              "0 global\n",
		"etc/rt_tables.d/sub/x.conf": "110 nested\n",
	})
	f := &Files{Etc: filepath.Join(root, "etc"), Usr: filepath.Join(root, "usr"), Protocols: filepath.Join(root, "protocols")}
	for _, c := range []struct {
		name string
		want uint32
		ok   bool
	}{
		{"etc", 100, true}, {"hex", 0x65, true}, {"main", 254, true}, {"local", 255, true},
		{"default", 253, true}, // not in the file: the built-in default
		{"seven", 0, false},    // three fields: skipped
		{"neg", 0, false},
		{"usronly", 0, false}, // the etc file wins over the usr one
		{"usr_d", 102, true}, {"shadowed", 0, false}, {"hidden", 0, false}, {"notconf", 0, false},
		{"etc_d", 106, true}, {"later", 107, true}, {"noname", 0, false}, {"nested", 0, false},
		{"dup", 300, true}, {"dup_from_usr", 300, true},
		{"42", 42, true}, {"0x10", 16, true}, {"010", 8, true}, {"4294967295", 0xFFFFFFFF, true},
		{"4294967296", 0, false}, {"", 0, false}, {"0x", 0, false},
	} {
		got, ok := f.Table(c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("Table(%q) = %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if v, ok := f.Realms("PQA/0x14"); !ok || v != 12<<16|20 {
		t.Errorf("Realms(PQA/0x14) = %#x, %v", v, ok)
	}
	if v, ok := f.Realms("30"); !ok || v != 30 {
		t.Errorf("Realms(30) = %d, %v", v, ok)
	}
	if _, ok := f.Realms("256"); ok {
		t.Error("realm 256 accepted")
	}
	if _, ok := f.Realms("PQA/nope"); ok {
		t.Error("unknown realm accepted")
	}
	// The usr file counts when etc has none.
	if v, ok := f.Protocol("myproto"); !ok || v != 77 {
		t.Errorf("Protocol(myproto) = %d, %v", v, ok)
	}
	if v, ok := f.Protocol("bird"); !ok || v != 12 {
		t.Errorf("Protocol(bird) = %d, %v (built in)", v, ok)
	}
	if v, ok := f.DSField("AF11"); !ok || v != 0x28 {
		t.Errorf("DSField(AF11) = %d, %v", v, ok)
	}
	if _, ok := f.DSField("0x100"); ok {
		t.Error("dsfield 0x100 accepted")
	}
	if v, ok := f.Group("grp"); !ok || v != 5 {
		t.Errorf("Group(grp) = %d, %v", v, ok)
	}
	if v, ok := f.Scope("link"); !ok || v != 253 {
		t.Errorf("Scope(link) = %d, %v (built in)", v, ok)
	}
	if _, ok := f.Scope("universe"); ok {
		t.Error("scope universe accepted (neither ip nor keepalived know it)")
	}
	for name, want := range map[string]uint8{"udp": 17, "UDP": 17, "VRRP": 112, "6": 6} {
		if v, ok := f.IPProto(name); !ok || v != want {
			t.Errorf("IPProto(%q) = %d, %v; want %d", name, v, ok, want)
		}
	}
	if _, ok := f.IPProto("Udp"); ok {
		t.Error("IPProto is case-sensitive, as getprotobyname")
	}
}

func TestMissingFiles(t *testing.T) {
	f := &Files{Etc: t.TempDir(), Usr: t.TempDir(), Protocols: "/nonexistent/protocols"}
	if v, ok := f.Table("main"); !ok || v != 254 {
		t.Errorf("Table(main) = %d, %v", v, ok)
	}
	if _, ok := f.Table("custom"); ok {
		t.Error("unknown table resolved")
	}
	if v, ok := f.IPProto("tcp"); !ok || v != 6 {
		t.Errorf("IPProto(tcp) without the file = %d, %v", v, ok)
	}
}

func TestInjectedFS(t *testing.T) {
	files := map[string]string{"/x/etc/rt_tables": "9 nine\n", "/x/etc/rt_tables.d/a.conf": "10 ten\n"}
	f := &Files{Etc: "/x/etc", Usr: "/x/usr",
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, os.ErrNotExist
		},
		Glob: func(p string) ([]string, error) {
			if p == "/x/etc/rt_tables.d/*.conf" {
				return []string{"/x/etc/rt_tables.d/a.conf"}, nil
			}
			return nil, nil
		},
	}
	if v, ok := f.Table("nine"); !ok || v != 9 {
		t.Errorf("nine = %d, %v", v, ok)
	}
	if v, ok := f.Table("ten"); !ok || v != 10 {
		t.Errorf("ten = %d, %v", v, ok)
	}
}
