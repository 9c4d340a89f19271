package hacheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

// selfSigned writes a certificate and its key, as haproxy's `crt` reads
// them, and returns the path.
func selfSigned(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shop.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"shop.example"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})...)
	path := filepath.Join(t.TempDir(), "shop.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProductionConfigIsValid: the production-shaped config passes the
// real `haproxy -c` (with a certificate where its "${SHOP_CERT}" points,
// as lb1 of its peers), and CheckFiles finds nothing failing in it.
func TestProductionConfigIsValid(t *testing.T) {
	t.Setenv("SHOP_CERT", selfSigned(t))
	res, cfgs, err := CheckFiles(context.Background(), []string{"../hacfg/testdata/production.cfg"},
		FileOptions{LocalPeer: "lb1", Parse: hacfg.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 1 || res.HAProxy == "" {
		t.Fatalf("cfgs %d, haproxy %q (%s)", len(cfgs), res.HAProxy, res.NoCheck)
	}
	for _, f := range res.Findings {
		if f.Source == SourceHAProxy || f.Severity.Failing() {
			t.Errorf("%s %s: %s", f.Pos(), f.ID, f.Problem)
		}
	}
	if res.Worst != SevInfo {
		t.Errorf("worst %q, want info (the redispatch notes)", res.Worst)
	}
}

func TestCheckFilesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.cfg")
	if err := os.WriteFile(bad, []byte("global\n  maxconn 1\nbackend b\n  server a \"1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := CheckFiles(context.Background(), []string{bad}, FileOptions{HAProxy: NoHAProxy})
	if err == nil || err.Error() != bad+":4: unmatched quote" {
		t.Errorf("bad file: %v", err)
	}
	res, _, err := CheckFiles(context.Background(), []string{"../hacfg/testdata/production.cfg"}, FileOptions{HAProxy: NoHAProxy, Ignore: []string{"redispatch@be_api"}})
	if err != nil || res.NoCheck != "--no-haproxy" || res.Silenced != 1 || len(res.Findings) != 1 || res.Findings[0].Backend != "be_shop" {
		t.Errorf("silenced: %+v %v", res, err)
	}
}

// TestConditionsFollowTheBinary: `.if feature(...)` and version_atleast
// are evaluated as the installed haproxy (-vv) would: this one has
// OPENSSL and is 2.6, so only the backend inside the true block exists.
func TestConditionsFollowTheBinary(t *testing.T) {
	text := "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n" +
		".if feature(OPENSSL) && version_atleast(2.6) && !version_atleast(2.7)\nbackend with_ssl\n    server a 127.0.0.1:1\n" +
		".else\nbackend without_ssl\n    server a 127.0.0.1:1\n.endif\n"
	path := filepath.Join(t.TempDir(), "cond.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, cfgs, err := CheckFiles(context.Background(), []string{path}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfgs[0].Find("backend", "with_ssl") == nil || cfgs[0].Find("backend", "without_ssl") != nil {
		t.Errorf("sections %+v", cfgs[0].Sections)
	}
	_, cfgs, _ = CheckFiles(context.Background(), []string{path}, FileOptions{HAProxy: NoHAProxy})
	if cfgs[0].Find("backend", "without_ssl") == nil {
		t.Error("without haproxy, feature() is false")
	}
}
