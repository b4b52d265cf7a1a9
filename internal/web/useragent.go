package web

import (
	"regexp"
	"strings"

	"github.com/pforte/pforte/internal/lang"
)

// A person recognises a session by the browser and the system it runs on,
// not by a user-agent string. uaSummary names both in words, from the
// tokens browsers have sent for years, in the reader's language; what it
// does not recognise it calls "unbekannter Browser" rather than guessing.

// uaBrowsers are tried in order: Edge and Opera also send "Chrome", Chrome
// also sends "Safari".
var uaBrowsers = []struct{ token, name string }{
	{"pforte-app/", ""}, // uaSummary names it in the reader's language
	{"Edg/", "Microsoft Edge"},
	{"EdgA/", "Microsoft Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"Chromium/", "Chromium"},
	{"HeadlessChrome/", ""}, // likewise
	{"Chrome/", "Chrome"},
	{"Safari/", "Safari"},
	{"curl/", "curl"},
}

// uaSystems are tried in order: Android also sends "Linux", iOS also sends
// "Mac OS X".
var uaSystems = []struct{ token, name string }{
	{"Android", "Android"},
	{"iPhone", "iOS"},
	{"iPad", "iPadOS"},
	{"Windows", "Windows"},
	{"CrOS", "ChromeOS"},
	{"Macintosh", "macOS"},
	{"Linux", "Linux"},
}

// uaVersion is a browser's major version after its token.
var uaVersion = regexp.MustCompile(`^(\d{1,4})`)

// uaSummary names the browser (with its major version) and the system of
// a user agent in l: "Firefox 133 unter Windows".
func uaSummary(l lang.Language, ua string) string {
	browser := ""
	for _, b := range uaBrowsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			switch b.token {
			case "pforte-app/":
				browser = l.T("web.ua.app")
			case "HeadlessChrome/":
				browser = l.T("web.ua.headless")
			default:
				browser = b.name
			}
			rest := ua[i+len(b.token):]
			if j := strings.Index(ua, "Version/"); b.token == "Safari/" && j >= 0 {
				rest = ua[j+len("Version/"):] // Safari's own version
			}
			if v := uaVersion.FindString(rest); v != "" && b.token != "pforte-app/" {
				browser += " " + v
			}
			break
		}
	}
	system := ""
	for _, s := range uaSystems {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser == "" && system == "":
		return l.T("web.ua.unknown")
	case browser == "":
		return l.T("web.ua.browser_on", system)
	case system == "":
		return browser
	}
	return l.T("web.ua.on", browser, system)
}
