package redact_test

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/redact"
)

// A session cookie is hidden but stays comparable; the affinity token is
// the evidence and stays in clear.
func ExampleRedactor_Header() {
	r := redact.NewWithKey([]byte("a key for this example"))
	v1, _ := r.Header("Cookie", "SERVERID=s1; JSESSIONID=4f1c9e2a77", "SERVERID")
	v2, _ := r.Header("Set-Cookie", "JSESSIONID=4f1c9e2a77; Path=/; HttpOnly", "SERVERID")
	fmt.Println(v1)
	fmt.Println(v2)
	// Output:
	// SERVERID=s1; JSESSIONID=redacted:a272e9
	// JSESSIONID=redacted:a272e9; Path=/; HttpOnly
}
