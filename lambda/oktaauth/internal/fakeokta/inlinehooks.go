package fakeokta

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// InlineHook is an inline hook as the fake stores it, the header secret
// included (Channel.Config.AuthScheme.Value), which it never answers.
type InlineHook struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Type        string    `json:"type"`
	Version     string    `json:"version"`
	Channel     Channel   `json:"channel"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"lastUpdated"`
}

// Channel is an inline hook's HTTP channel.
type Channel struct {
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Config  ChannelConfig `json:"config"`
}

// ChannelConfig is where and how Okta calls the hook.
type ChannelConfig struct {
	URI        string          `json:"uri"`
	Method     string          `json:"method"`
	Headers    []HookHeader    `json:"headers"`
	AuthScheme *HookAuthScheme `json:"authScheme,omitempty"`
}

// HookHeader is an extra header Okta sends.
type HookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// HookAuthScheme is the header Okta authenticates itself with.
type HookAuthScheme struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// inlineHookTypes are the management API spec's InlineHookType enum.
var inlineHookTypes = []string{"com.okta.import.transform", "com.okta.oauth2.tokens.transform", "com.okta.saml.tokens.transform",
	"com.okta.telephony.provider", "com.okta.user.credential.password.import", "com.okta.user.pre-registration"}

// TokenHookType is the token inline hook type.
const TokenHookType = "com.okta.oauth2.tokens.transform"

// maxInlineHooks: "The total number of inline hooks that you can create in an
// Okta org is limited to 50" (createInlineHook).
const maxInlineHooks = 50

// InlineHooks returns a deep copy of every inline hook, with its secret.
func (s *Server) InlineHooks() []InlineHook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneAll(s.hooks)
}

// AddInlineHook creates an HTTP inline hook directly (not recorded), as an
// admin would in the console, and returns its id.
func (s *Server) AddInlineHook(name, hookType, status string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	h := &InlineHook{ID: s.newID("cal"), Name: name, Status: status, Type: hookType, Version: "1.0.0", Created: now, LastUpdated: now,
		Channel: Channel{Type: "HTTP", Version: "1.0.0", Config: ChannelConfig{URI: "https://hooks.example.com/" + url.PathEscape(name),
			Method: "POST", Headers: []HookHeader{}, AuthScheme: &HookAuthScheme{Type: "HEADER", Key: "Authorization", Value: s.newSecret()}}}}
	s.hooks = append(s.hooks, h)
	return h.ID
}

func (s *Server) hook(id string) *InlineHook {
	for _, h := range s.hooks {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// hookWire is a hook as Okta answers it: the authScheme without its value
// (InlineHookChannelConfigAuthSchemeResponse has type and key only), type and
// key in lower case as in the spec's InlineHookMgmtHTTPexample.
func hookWire(h *InlineHook) InlineHook {
	c := clone(*h)
	if a := c.Channel.Config.AuthScheme; a != nil {
		a.Type, a.Key, a.Value = strings.ToLower(a.Type), strings.ToLower(a.Key), ""
	}
	return c
}

func (s *Server) routeInlineHooks(r *http.Request, segs []string, body any) (int, any, []string, *apiError) {
	now := s.now().UTC()
	if len(segs) == 0 {
		switch r.Method {
		case http.MethodGet: // listInlineHooks, optionally of one type
			t := r.URL.Query().Get("type")
			if t != "" && !slices.Contains(inlineHookTypes, t) {
				return 0, nil, nil, invalid("type", fmt.Sprintf("'%s' is not a valid inline hook type", t))
			}
			out := []InlineHook{}
			for _, h := range s.hooks {
				if t == "" || h.Type == t {
					out = append(out, hookWire(h))
				}
			}
			return 200, out, nil, nil
		case http.MethodPost: // createInlineHook: ACTIVE from the start
			if len(s.hooks) >= maxInlineHooks {
				return 0, nil, nil, invalid("inlineHook", fmt.Sprintf("The maximum number of inline hooks (%d) has been reached", maxInlineHooks))
			}
			h := &InlineHook{Created: now, LastUpdated: now}
			if err := s.writeHook(h, body, true); err != nil {
				return 0, nil, nil, err
			}
			h.ID, h.Status = s.newID("cal"), "ACTIVE"
			s.hooks = append(s.hooks, h)
			return 200, hookWire(h), nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	h := s.hook(segs[0])
	if h == nil {
		return 0, nil, nil, notFound(segs[0], "InlineHook")
	}
	if len(segs) == 3 && segs[1] == "lifecycle" && r.Method == http.MethodPost {
		// activateInlineHook / deactivateInlineHook answer 200 with the hook.
		if _, _, _, err := s.lifecycle(&h.Status, segs[2]); err != nil {
			return 0, nil, nil, err
		}
		h.LastUpdated = now
		return 200, hookWire(h), nil, nil
	}
	if len(segs) != 1 {
		return 0, nil, nil, notFound(r.URL.Path, "Endpoint")
	}
	switch r.Method {
	case http.MethodGet: // getInlineHook
		return 200, hookWire(h), nil, nil
	case http.MethodPut, http.MethodPost: // replaceInlineHook, updateInlineHook
		if err := s.writeHook(h, body, false); err != nil {
			return 0, nil, nil, err
		}
		h.LastUpdated = now
		return 200, hookWire(h), nil, nil
	case http.MethodDelete:
		// deleteInlineHook: "only inline hooks with a status of INACTIVE are
		// eligible for deletion". The spec lists no status for an active
		// one; 400 E0000001 is an assumption.
		if h.Status != "INACTIVE" {
			return 0, nil, nil, invalid("status", "Cannot delete an ACTIVE inline hook: deactivate it first")
		}
		s.hooks = slices.DeleteFunc(s.hooks, func(x *InlineHook) bool { return x == h })
		return http.StatusNoContent, nil, nil, nil
	}
	return 0, nil, nil, methodNotAllowed()
}

// writeHook validates a createInlineHook (create) or replaceInlineHook body:
// a name of 1 to 255 characters (InlineHook.name), a type of the
// InlineHookType enum on create (the replace body, InlineHookReplace, has none;
// a different type is refused, an assumption: "Some properties are
// immutable"), version 1.0.0 for the hook and the channel, an HTTP channel (the
// OAUTH channel is not modelled) whose uri begins with https:// with no white
// space and at most 1024 characters (InlineHookChannelConfigCreate.uri),
// method POST, and an authScheme of type HEADER with a key and a value
// (InlineHookChannelConfigAuthSchemeBody).
func (s *Server) writeHook(h *InlineHook, body any, create bool) *apiError {
	var in InlineHook
	if err := decode(body, &in); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(in.Name) == "":
		return invalid("name", "The field cannot be left blank")
	case len(in.Name) > 255:
		return invalid("name", "must be at most 255 characters")
	case create && !slices.Contains(inlineHookTypes, in.Type):
		return invalid("type", fmt.Sprintf("'%s' is not a valid inline hook type", in.Type))
	case !create && in.Type != "" && in.Type != h.Type:
		return invalid("type", "The type of an inline hook cannot be changed")
	case in.Version != "1.0.0":
		return invalid("version", "The supported version is 1.0.0")
	case in.Channel.Type != "HTTP":
		return invalid("channel.type", "must be HTTP (the fake models HTTP channels only)")
	case in.Channel.Version != "1.0.0":
		return invalid("channel.version", "The supported version is 1.0.0")
	case !strings.HasPrefix(in.Channel.Config.URI, "https://") || strings.ContainsAny(in.Channel.Config.URI, " \t\r\n") ||
		len(in.Channel.Config.URI) > 1024:
		return invalid("channel.config.uri", "must begin with https://, contain no white space and be at most 1024 characters")
	case in.Channel.Config.Method != "POST":
		return invalid("channel.config.method", "must be POST")
	}
	if a := in.Channel.Config.AuthScheme; a != nil {
		switch {
		case a.Type != "HEADER":
			return invalid("channel.config.authScheme.type", "The supported type is HEADER")
		case a.Key == "" || a.Value == "":
			return invalid("channel.config.authScheme", "key and value are required")
		}
	}
	if in.Channel.Config.Headers == nil {
		in.Channel.Config.Headers = []HookHeader{}
	}
	if !create {
		in.Type = h.Type
	}
	in.ID, in.Status, in.Created, in.LastUpdated = h.ID, h.Status, h.Created, h.LastUpdated
	*h = in
	return nil
}

// checkRuleHook validates a rule's actions.token.inlineHook.id: it must name
// an existing token hook (Okta support, "Update an Access Policy Rule on an
// Authorization Server to Trigger an Inline Token Hook": the id is one of the
// hooks listed with type=com.okta.oauth2.tokens.transform) that is ACTIVE (the
// developer guide "Token inline hook > Activate and enable": the rule's "Use
// this inline hook" selects an activated hook). The 400 E0000001 answer is an
// assumption: neither source gives Okta's status.
func (s *Server) checkRuleHook(id string) *apiError {
	const field = "actions.token.inlineHook.id"
	h := s.hook(id)
	switch {
	case h == nil:
		return invalid(field, fmt.Sprintf("The inline hook %s does not exist", id))
	case h.Type != TokenHookType:
		return invalid(field, fmt.Sprintf("The inline hook %s is not a token inline hook (%s)", id, h.Type))
	case h.Status != "ACTIVE":
		return invalid(field, fmt.Sprintf("The inline hook %s is not active", id))
	}
	return nil
}
