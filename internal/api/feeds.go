package api

import (
	"net/http"

	"detente"
	"detente/internal/feed"
)

func (s *Server) feedRoutes() {
	s.handle("GET /api/v1/feeds", anyRole, MaxBody, s.listFeeds)
	s.handle("GET /api/v1/feeds/status", anyRole, MaxBody, s.feedStatus)
	s.handle("POST /api/v1/feeds", admins, MaxBody, s.postFeed)
	s.handle("POST /api/v1/feeds/{name}/pull", analysts, MaxBody, s.pullFeed)
	s.handle("POST /api/v1/feeds/{name}/remove", admins, MaxBody, s.removeFeed)
}

// FeedRequest is the body of POST /api/v1/feeds. Secrets are named by
// their files on the node's machine, never sent: a request carrying a
// password or token is refused.
type FeedRequest struct {
	Name         string `json:"name"`
	URL          string `json:"url"`
	Format       string `json:"format"`
	Username     string `json:"username"`
	PasswordFile string `json:"password_file"`
	TokenFile    string `json:"token_file"`
	CAFile       string `json:"ca_file"`
	Grading      string `json:"grading"`
	TLP          string `json:"tlp"`
	Originate    bool   `json:"originate"`
	// Password and Token are refused: they are here to say so clearly
	// rather than as an unknown field.
	Password string `json:"password"`
	Token    string `json:"token"`
}

func (s *Server) postFeed(r *http.Request) (any, error) {
	var req FeedRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Password != "" || req.Token != "" {
		return nil, detente.Errorf(detente.EINVALID, "a feed's password or token is never sent to the node: put it in a file on the node's machine and give password_file or token_file")
	}
	c := feed.Config{Name: req.Name, URL: req.URL, Format: feed.Format(req.Format), Username: req.Username,
		PasswordFile: req.PasswordFile, TokenFile: req.TokenFile, CAFile: req.CAFile, Originate: req.Originate}
	var err error
	if req.Grading != "" {
		if c.Grading, err = detente.ParseGrading(req.Grading); err != nil {
			return nil, err
		}
	}
	if req.TLP != "" {
		if c.TLP, err = detente.ParseTLP(req.TLP); err != nil {
			return nil, err
		}
	}
	return s.node.Feeds.Add(r.Context(), c)
}

func (s *Server) listFeeds(r *http.Request) (any, error) {
	return s.node.Feeds.List(r.Context())
}

func (s *Server) feedStatus(r *http.Request) (any, error) {
	return s.node.Feeds.Status(r.Context())
}

// pullFeed pulls one feed now and answers with what the pull did; a pull
// that failed is 200 with its error in the result, as the feed's status
// records it.
func (s *Server) pullFeed(r *http.Request) (any, error) {
	res, err := s.node.Feeds.Pull(r.Context(), r.PathValue("name"), nil)
	if res == nil {
		return nil, err // no such feed, already being pulled, or the store failed
	}
	return statusOK{res}, nil
}

func (s *Server) removeFeed(r *http.Request) (any, error) {
	if err := s.node.Feeds.Remove(r.Context(), r.PathValue("name")); err != nil {
		return nil, err
	}
	return statusOK{map[string]string{"removed": r.PathValue("name")}}, nil
}
