package irc

import (
	"sort"
	"strings"
)

// Tag values escape ';', ' ', '\', CR and LF (IRCv3 message-tags).
var (
	tagEscaper   = strings.NewReplacer(`\`, `\\`, ";", `\:`, " ", `\s`, "\r", `\r`, "\n", `\n`)
	tagUnescaper = strings.NewReplacer(`\\`, `\`, `\:`, ";", `\s`, " ", `\r`, "\r", `\n`, "\n")
)

func parseTags(s string) map[string]string {
	tags := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		tags[k] = tagUnescaper.Replace(v)
	}
	return tags
}

func formatTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		if v := tags[k]; v != "" {
			b.WriteByte('=')
			b.WriteString(tagEscaper.Replace(v))
		}
	}
	return b.String()
}
