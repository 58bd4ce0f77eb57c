package api

// Takes returns the query parameters each route takes, by route pattern.
func (s *Server) Takes() map[string][]string { return s.takes }
