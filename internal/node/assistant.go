package node

import (
	"fmt"
	"log/slog"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/assistantapi"
	"github.com/pforte/pforte/internal/server"
)

// assistantHandlers are the assistant, its JSON route and its question
// page.
type assistantHandlers struct {
	Assistant *assistant.Assistant
	API       *assistantapi.API
	Page      *assistantapi.Page
}

// newAssistant builds the FAQ assistant from cfg.Assistant, with the
// insurer's name and telephone the portal shows, and its handlers.
//
// The questions of persons with a session at level substantial or higher
// are kept in the database for cfg.Assistant.Retention (anonymous askers
// keep nothing), so that they can hand a conversation over to staff by
// mailbox on any node; the maintenance sweeper removes older turns.
//
// The API learns who asks from apiSessions (bearer tokens), the page from
// pageSessions (the portal's cookie).
func newAssistant(cfg Config, insurer, phone string, conversations assistant.Conversations,
	apiSessions, pageSessions assistantapi.Sessions, mb assistantapi.Mailbox, logger *slog.Logger) (assistantHandlers, error) {
	acfg := cfg.Assistant
	if acfg.InsurerName == "" {
		acfg.InsurerName = insurer
	}
	if acfg.Phone == "" {
		acfg.Phone = phone
	}
	a, err := assistant.New(acfg, assistant.KnowledgeBase(), conversations, cfg.Now)
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
		Assistant: a,
		API:       assistantapi.NewAPI(hcfg, a, apiSessions, mb, logger),
		Page:      assistantapi.NewPage(hcfg, a, pageSessions, mb, logger),
	}, nil
}
