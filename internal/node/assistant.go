package node

import (
	"fmt"
	"log/slog"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/assistantapi"
	"github.com/pforte/pforte/internal/server"
)

// assistantHandlers are the assistant's JSON route and question page.
type assistantHandlers struct {
	API  *assistantapi.API
	Page *assistantapi.Page
}

// newAssistant builds the FAQ assistant from cfg.Assistant, with the
// insurer's name and telephone the portal shows, and its handlers.
//
// The node does not wire the hand-over to the mailbox yet (it needs the
// conversations in the database), so the assistant is built without it: every hand-over names the telephone and its hours, at every level,
// and no conversation is kept (nothing could be handed over). The handlers
// get no sessions for the same reason: a session's level only decides
// whether the mailbox hand-over is offered.
func newAssistant(cfg Config, insurer, phone string, logger *slog.Logger) (assistantHandlers, error) {
	acfg := cfg.Assistant
	if acfg.InsurerName == "" {
		acfg.InsurerName = insurer
	}
	if acfg.Phone == "" {
		acfg.Phone = phone
	}
	acfg.NoMailbox = true
	a, err := assistant.New(acfg, assistant.KnowledgeBase(), assistant.KeepNothing{}, cfg.Now)
	if err != nil {
		return assistantHandlers{}, fmt.Errorf("node: %w", err)
	}
	rate, burst := cfg.AssistantRate, cfg.AssistantBurst
	if rate <= 0 {
		rate = 2
	}
	if burst <= 0 {
		burst = 20
	}
	hcfg := assistantapi.Config{InsurerName: acfg.InsurerName, Phone: acfg.Phone, MaxQuestionRunes: acfg.MaxQuestionRunes,
		Limiter: server.NewIPLimiter(rate, burst, cfg.Now), Now: cfg.Now}
	return assistantHandlers{
		API:  assistantapi.NewAPI(hcfg, a, nil, nil, logger),
		Page: assistantapi.NewPage(hcfg, a, nil, nil, logger),
	}, nil
}
