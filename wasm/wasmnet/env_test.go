package wasmnet_test

// env names the bridge and the services a test reaches through it. Native
// tests start them in-process; tests inside wasm get them from the native
// test that runs them (see inside_test.go).
type env struct {
	Bridge  string // WebSocket URL of the bridge
	Echo    string // echo server
	Pair    string // pairing server (services.Pair)
	SMTP    string // mail sink with STARTTLS (services.SMTP)
	Mailbox string // where to fetch what the sink received
	DNS     string // DNS server for services.Zone, UDP and TCP
	CA      string // PEM of the CA that signed the services' certificates
}

// envVars maps env's fields to the variables that carry them into wasm.
var envVars = []struct {
	name  string
	field func(*env) *string
}{
	{"WASMNET_TEST_BRIDGE", func(e *env) *string { return &e.Bridge }},
	{"WASMNET_TEST_ECHO", func(e *env) *string { return &e.Echo }},
	{"WASMNET_TEST_PAIR", func(e *env) *string { return &e.Pair }},
	{"WASMNET_TEST_SMTP", func(e *env) *string { return &e.SMTP }},
	{"WASMNET_TEST_MAILBOX", func(e *env) *string { return &e.Mailbox }},
	{"WASMNET_TEST_DNS", func(e *env) *string { return &e.DNS }},
	{"WASMNET_TEST_CA", func(e *env) *string { return &e.CA }},
}
