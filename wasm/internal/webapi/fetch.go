//go:build js && wasm

package webapi

import (
	"fmt"

	"github.com/hack-pad/safejs"
)

// Fetch GETs url with the fetch API of the page or Worker and returns the
// body. A status other than 200 is an error.
func Fetch(url string) ([]byte, error) {
	fetch, err := safejs.Global().Get("fetch")
	if err != nil || fetch.IsUndefined() {
		return nil, fmt.Errorf("fetch %s: no fetch in this JavaScript environment", url)
	}
	p, err := fetch.Invoke(url)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	res, err := Await(p)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	status, _ := res.Get("status")
	if code, _ := status.Int(); code != 200 {
		return nil, fmt.Errorf("fetch %s: HTTP status %d", url, code)
	}
	p, err = res.Call("arrayBuffer")
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	buf, err := Await(p)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	return ToBytes(buf)
}
