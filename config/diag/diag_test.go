package diag

import (
	"encoding/json"
	"testing"
)

func TestDiagnosticJSON(t *testing.T) {
	d := Diagnostic{File: "a.conf", Line: 3, Col: 5, Keyword: "priority", Severity: Error, Message: "m"}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"file":"a.conf","line":3,"col":5,"keyword":"priority","severity":"error","message":"m"}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var back Diagnostic
	if err := json.Unmarshal(b, &back); err != nil || back != d {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"severity":"fatal"}`), &back); err == nil {
		t.Fatal("unknown severity accepted")
	}
}
