//go:build !js && !wasip1

package jstest

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

var profileDir = flag.String("profile", "", "profile the page's bulk transfers with the DevTools CPU profiler and write .cpuprofile files (which DevTools opens) to this folder")

// TestProfile is a tool, not a test: it runs testdata/transfers.js's
// transfers on a page under the DevTools CPU profiler, writes each profile
// to the -profile folder and logs where the time went, by function (wasm
// functions carry their Go names). It asserts nothing.
//
//	go test ./js/jstest -run Profile -profile /tmp/prof -v
//
// In the environment, PROFILE_PARTS names the parts to profile in
// Chromium (a space: none), PROFILE_THREADS=1 counts CPU per thread of
// every process, PROFILE_RBS sets the sockets' receiveBufferSize, and
// PROFILE_GO=PART profiles this process (the bridge, the servers) in each
// counted round of that part (go tool pprof -top DIR/go-PART-*.pprof).
func TestProfile(t *testing.T) {
	if *profileDir == "" {
		t.Skip("profiles are taken on request: go test ./js/jstest -run Profile -profile DIR -v")
	}
	if err := os.MkdirAll(*profileDir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := startEnv(t)
	ctx := e.page(t)
	const size = 32 << 20
	type result struct {
		Bytes int64
		MS    float64
		Stats map[string]any
	}
	do := func(part string, cfg map[string]any) result {
		c, _ := json.Marshal(cfg)
		expr := fmt.Sprintf(`import("/js/jstest/testdata/transfers.js").then((m) => m[%q](%s))`, part, c)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		var r result
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	mibps := func(r result) float64 { return float64(r.Bytes) / (1 << 20) / (r.MS / 1000) }
	// Unprofiled runs first, interleaved, for figures to compare within
	// the run: each TCPSocket transfer against a plain WebSocket's.
	perThread := os.Getenv("PROFILE_THREADS") != ""
	rates := map[string][]float64{}
	thr := map[string]map[string]float64{}
	cpu := map[string][2]float64{} // seconds of CPU: this process (bridge, servers), and Chromium's
	// One round to warm up, not counted: V8 compiles the hot wasm and
	// JavaScript in the background during the first transfers of a fresh
	// page, and counting that made the first part, tcpDown, look twice as
	// costly per MiB as it is.
	rounds := []string{"tcpDown", "wsDown", "tcpUp", "wsUp"}
	for _, part := range rounds {
		do(part, e.with("size", size))
	}
	for range 5 {
		for _, part := range rounds {
			cfg := e.with("size", size)
			if v := os.Getenv("PROFILE_RBS"); v != "" {
				cfg["receiveBufferSize"], _ = strconv.Atoi(v)
			}
			self0, kids0 := cpuTimes()
			th0 := threadTimes(perThread)
			stop := goProfile(t, part, len(rates[part]))
			rates[part] = append(rates[part], mibps(do(part, cfg)))
			stop()
			self1, kids1 := cpuTimes()
			th1 := threadTimes(perThread)
			if thr[part] == nil {
				thr[part] = map[string]float64{}
			}
			for k, v := range th1 {
				thr[part][k] += v - th0[k]
			}
			c := cpu[part]
			cpu[part] = [2]float64{c[0] + self1 - self0, c[1] + kids1 - kids0}
		}
	}
	median := func(v []float64) float64 {
		v = append([]float64(nil), v...)
		sort.Float64s(v)
		return v[len(v)/2]
	}
	best := func(v []float64) float64 { return slices.Max(v) }
	for _, p := range [][2]string{{"tcpDown", "wsDown"}, {"tcpUp", "wsUp"}} {
		a, b := median(rates[p[0]]), median(rates[p[1]])
		for _, part := range p {
			c := cpu[part]
			mib := float64(5*size) / (1 << 20)
			t.Logf("%s CPU per MiB: %.1f ms in the test process (bridge, servers), %.1f ms in Chromium", part, 1000*c[0]/mib, 1000*c[1]/mib)
			if perThread {
				type kv struct {
					k string
					v float64
				}
				var l []kv
				for k, v := range thr[part] {
					if v > 0 {
						l = append(l, kv{k, v})
					}
				}
				sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v })
				for i := 0; i < len(l) && i < 12; i++ {
					t.Logf("    %-40s %.2f ms/MiB", l[i].k, 1000*l[i].v/mib)
				}
			}
		}
		t.Logf("%s median %.1f MiB/s, %s median %.1f MiB/s: ratio %.2f; best %.1f and %.1f: ratio %.2f", p[0], a, p[1], b, a/b, best(rates[p[0]]), best(rates[p[1]]), best(rates[p[0]])/best(rates[p[1]]))
	}
	if os.Getenv("SENDCOST") != "" {
		for range 3 {
			r := do("sendCost", e.with("size", size))
			t.Logf("sendCost: %.1f MiB/s, %v", mibps(r), r.Stats)
		}
	}
	parts := []string{"tcpDown", "tcpUp"}
	if p := os.Getenv("PROFILE_PARTS"); p != "" {
		parts = strings.Fields(p)
	}
	for _, part := range parts {
		if _, err := chromedp.Call(ctx, profiler.Enable, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, profiler.Start, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		r := do(part, e.with("size", size))
		res, err := chromedp.Call(ctx, profiler.Stop, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		p := res.Profile
		data, _ := json.Marshal(p)
		file := filepath.Join(*profileDir, part+".cpuprofile")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes in %.0f ms (%.1f MiB/s); profile in %s", part, r.Bytes, r.MS, float64(r.Bytes)/(1<<20)/(r.MS/1000), file)
		t.Logf("stats after: %v", r.Stats)
		logProfile(t, p, float64(r.Bytes)/(1<<20))
	}
}

// goProfile profiles this process (the bridge and the servers) during
// round i of part, when PROFILE_GO names the part, into the -profile
// folder as go-PART-I.pprof; go tool pprof takes them all at once.
func goProfile(t *testing.T, part string, i int) (stop func()) {
	if os.Getenv("PROFILE_GO") != part {
		return func() {}
	}
	f, err := os.Create(filepath.Join(*profileDir, fmt.Sprintf("go-%s-%d.pprof", part, i)))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// logProfile logs the functions with the most self time, and the most
// total time (self and callees), in sampled time.
func logProfile(t *testing.T, p *profiler.Profile, mib float64) {
	byID := map[int64]*profiler.ProfileNode{}
	parent := map[int64]int64{}
	for _, n := range p.Nodes {
		byID[n.ID] = n
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	name := func(n *profiler.ProfileNode) string {
		f := n.CallFrame.FunctionName
		if f == "" {
			f = "(anonymous)"
		}
		u := n.CallFrame.URL
		if i := strings.LastIndex(u, "/"); i >= 0 {
			u = u[i+1:]
		}
		if u != "" {
			f += " " + u + ":" + fmt.Sprint(n.CallFrame.LineNumber+1)
		}
		return f
	}
	self := map[string]int64{}
	total := map[string]int64{}
	var all int64
	for i, id := range p.Samples {
		d := int64(100)
		if i+1 < len(p.TimeDeltas) {
			d = p.TimeDeltas[i+1]
		}
		all += d
		n := byID[id]
		self[name(n)] += d
		seen := map[string]bool{}
		for x := id; ; {
			nm := name(byID[x])
			if !seen[nm] {
				seen[nm] = true
				total[nm] += d
			}
			px, ok := parent[x]
			if !ok {
				break
			}
			x = px
		}
	}
	top := func(m map[string]int64, what string, k int) {
		type kv struct {
			k string
			v int64
		}
		var s []kv
		for k, v := range m {
			s = append(s, kv{k, v})
		}
		sort.Slice(s, func(i, j int) bool { return s[i].v > s[j].v })
		var b strings.Builder
		fmt.Fprintf(&b, "%s (of %.0f ms sampled):\n", what, float64(all)/1000)
		for i := 0; i < k && i < len(s); i++ {
			fmt.Fprintf(&b, "  %6.1f%% %8.1f ms  %s\n", 100*float64(s[i].v)/float64(all), float64(s[i].v)/1000, s[i].k)
		}
		t.Log(b.String())
	}
	t.Logf("busy (sampled, less idle): %.1f ms per MiB", float64(all-self["(idle)"])/1000/mib)
	top(self, "self time", 45)
	top(total, "total time", 45)
}

// cpuTimes returns the CPU seconds used so far by this process and by its
// descendants (Chromium's processes), from /proc; zeros elsewhere.
func cpuTimes() (self, kids float64) {
	const hz = 100 // USER_HZ
	read := func(pid string) (ppid string, secs float64, ok bool) {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return "", 0, false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 13 {
			return "", 0, false
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		k, _ := strconv.ParseFloat(f[12], 64)
		return f[1], (u + k) / hz, true
	}
	me := strconv.Itoa(os.Getpid())
	_, self, _ = read(me)
	ents, _ := os.ReadDir("/proc")
	parent := map[string]string{}
	secs := map[string]float64{}
	for _, e := range ents {
		if pp, s, ok := read(e.Name()); ok {
			parent[e.Name()], secs[e.Name()] = pp, s
		}
	}
	for pid, s := range secs {
		for p := parent[pid]; p != "" && p != "0"; p = parent[p] {
			if p == me {
				kids += s
				break
			}
		}
	}
	return self, kids
}

// threadTimes returns CPU seconds by process type and thread name, for
// Chromium's processes (descendants of this one) and this process; none
// unless on.
func threadTimes(on bool) map[string]float64 {
	out := map[string]float64{}
	if !on {
		return out // reading every thread's stat costs the test process CPU, which the figures count
	}
	me := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	parent := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		parent[e.Name()] = f[1]
	}
	for pid := range parent {
		mine := pid == me
		for p := parent[pid]; !mine && p != "" && p != "0"; p = parent[p] {
			mine = p == me
		}
		if !mine {
			continue
		}
		kind := "test"
		if pid != me {
			cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			kind = "browser"
			if i := strings.Index(string(cmd), "--type="); i >= 0 {
				kind = strings.SplitN(string(cmd[i+7:]), "\x00", 2)[0]
				if j := strings.IndexAny(kind, " \x00"); j >= 0 {
					kind = kind[:j]
				}
			}
			if strings.Contains(string(cmd), "--utility-sub-type=network") {
				kind = "network"
			}
		}
		tasks, _ := os.ReadDir("/proc/" + pid + "/task")
		for _, tk := range tasks {
			b, err := os.ReadFile("/proc/" + pid + "/task/" + tk.Name() + "/stat")
			if err != nil {
				continue
			}
			s := string(b)
			name := s[strings.IndexByte(s, '(')+1 : strings.LastIndexByte(s, ')')]
			f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
			u, _ := strconv.ParseFloat(f[11], 64)
			k, _ := strconv.ParseFloat(f[12], 64)
			if kind == "test" {
				name = "*"
			}
			out[kind+" "+strings.TrimRight(name, "0123456789")] += (u + k) / 100
		}
	}
	return out
}
