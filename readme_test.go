package identity_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmePrelude makes a Go block of README.md, which shows statements, into
// a program: the imports the blocks use and the names they take as given.
const readmePrelude = `package main

import (
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

var (
	hashKey, blockKey []byte
	admin, orgPage    http.Handler
	newRouter         func(*identity.Auth) http.Handler

	_ = fmt.Sprint
	_ = log.Fatal
	_ = os.Getenv
	_ = cookiejar.New
	_ = httptest.NewServer
	_ = identitytest.NewServer
)

func main() {
%s
}
`

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// The Go blocks of README.md compile as written, in a module that uses this
// one, so that the guide cannot drift from the API.
func TestReadmeGoBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}

	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := goBlock.FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks, "README.md has Go blocks")

	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	goMod := fmt.Sprintf("module readmecheck\n\ngo 1.26.0\n\nrequire github.com/ssogate/identity v0.0.0\n\nreplace github.com/ssogate/identity => %s\n", root)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o600))
	sums, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o600))

	for i, block := range blocks {
		source := string(block[1])
		if !strings.HasPrefix(source, "package ") {
			source = fmt.Sprintf(readmePrelude, source)
		}

		pkg := filepath.Join(dir, fmt.Sprintf("block%d", i+1))
		require.NoError(t, os.MkdirAll(pkg, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(pkg, "main.go"), []byte(source), 0o600))
	}

	cmd := exec.Command("go", "vet", "-mod=mod", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the README's Go blocks (block N is the Nth) do not compile:\n%s", out)
}
