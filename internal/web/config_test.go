package web_test

import "github.com/pforte/pforte/internal/web"

func webConfig(rate float64, burst int) web.Config {
	return web.Config{LoginRate: rate, LoginBurst: burst}
}
