package api

import (
	"net/http"

	"detente"
	"detente/internal/hotline"
	"detente/internal/params"
)

// channelRoutes serves liaison channels, their messages and notices of
// planned activity (docs/channels.md). Admins open, suspend and close
// channels; analysts send and acknowledge messages and file notices;
// auditors see channels, not what they carry.
func (s *Server) channelRoutes() {
	s.handle("GET /api/v1/channels", anyRole, MaxBody, s.listChannels)
	s.handle("GET /api/v1/channels/{id}", anyRole, MaxBody, s.getChannel)
	s.handle("POST /api/v1/channels", admins, MaxBody, s.postChannel)
	s.handle("POST /api/v1/channels/{id}/accept", admins, MaxBody, s.channelState(hotline.StateOpen))
	s.handle("POST /api/v1/channels/{id}/reopen", admins, MaxBody, s.channelState(hotline.StateOpen))
	s.handle("POST /api/v1/channels/{id}/suspend", admins, MaxBody, s.channelState(hotline.StateSuspended))
	s.handle("POST /api/v1/channels/{id}/close", admins, MaxBody, s.channelState(hotline.StateClosed))

	s.handle("GET /api/v1/messages", analysts, MaxBody, s.listMessages, params.Text("channel"))
	s.handle("POST /api/v1/messages", analysts, hotline.MaxMessageSize, s.postMessage)
	s.handle("POST /api/v1/messages/{id}/ack", analysts, MaxBody, s.ackMessage)

	s.handle("GET /api/v1/notices", analysts, MaxBody, s.listNotices)
	s.handle("POST /api/v1/notices", analysts, MaxBody, s.postNotice)
	s.handle("POST /api/v1/notices/{id}/cancel", analysts, MaxBody, s.cancelNotice)
	s.handle("POST /api/v1/notices/{id}/amend", analysts, MaxBody, s.amendNotice)
	s.handle("GET /api/v1/conflicts", analysts, MaxBody, s.listConflicts)
}

func (s *Server) listChannels(r *http.Request) (any, error) {
	chs, err := s.node.Hotline.Channels(r.Context())
	if chs == nil {
		chs = []*hotline.Channel{}
	}
	return chs, err
}

func (s *Server) getChannel(r *http.Request) (any, error) {
	return s.node.Hotline.Channel(r.Context(), r.PathValue("id"))
}

func (s *Server) postChannel(r *http.Request) (any, error) {
	var req hotline.ChannelRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.node.Hotline.ProposeChannel(r.Context(), req)
}

func (s *Server) channelState(to hotline.State) handlerFunc {
	return func(r *http.Request) (any, error) {
		var req ReasonRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return updated(s.node.Hotline.ChangeChannel(r.Context(), r.PathValue("id"), to, req.Reason))
	}
}

func (s *Server) listMessages(r *http.Request) (any, error) {
	return s.node.Hotline.Messages(r.Context(), query(r).Text("channel"))
}

func (s *Server) postMessage(r *http.Request) (any, error) {
	var req hotline.MessageRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.node.Hotline.SendMessage(r.Context(), req)
}

// AckRequest is the body of POST /api/v1/messages/{id}/ack: the person who
// acknowledges.
type AckRequest struct {
	By string `json:"by"`
}

func (s *Server) ackMessage(r *http.Request) (any, error) {
	var req AckRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.node.Hotline.AckMessage(r.Context(), r.PathValue("id"), req.By)
}

func (s *Server) listNotices(r *http.Request) (any, error) {
	return s.node.Hotline.Notices(r.Context())
}

func (s *Server) postNotice(r *http.Request) (any, error) {
	var req hotline.NoticeRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Start.IsZero() || req.End.IsZero() {
		return nil, detente.Errorf(detente.EINVALID, "a notice needs a start and an end")
	}
	return s.node.Hotline.FileNotice(r.Context(), req)
}

// CancelNoticeRequest is the body of POST /api/v1/notices/{id}/cancel.
type CancelNoticeRequest struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

func (s *Server) cancelNotice(r *http.Request) (any, error) {
	var req CancelNoticeRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.node.Hotline.CancelNotice(r.Context(), r.PathValue("id"), req.By, req.Reason)
}

func (s *Server) amendNotice(r *http.Request) (any, error) {
	var req hotline.AmendNoticeRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.node.Hotline.AmendNotice(r.Context(), r.PathValue("id"), req)
}

func (s *Server) listConflicts(r *http.Request) (any, error) {
	return s.node.Hotline.Conflicts(r.Context())
}
