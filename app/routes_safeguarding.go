package app

// registerSafeguardingRoutes declares the routes of safeguarding checks and concerns, and who may
// use them. The service checks again: a member reads only their own checks, and no concern is
// ever shown to the member it is about.
func (s *Server) registerSafeguardingRoutes() {
	// Anyone signed in may raise a concern (the footer links here from every page).
	s.get("/concerns/new", signedIn, s.newConcernPage)
	s.post("/concerns", signedIn, s.raiseConcern)

	// Coordinators.
	s.post("/coordinate/members/:id/checks", coordinators, s.recordCheck)
	s.get("/coordinate/concerns", coordinators, s.concernsPage)
	s.get("/coordinate/concerns/:id", coordinators, s.concernPage)
	s.post("/coordinate/concerns/:id/handle", coordinators, s.handleConcern)

	// The JSON API.
	s.get("/api/v1/members/:id/checks", signedIn, s.apiMemberChecks) // coordinators, or the member themself
	s.post("/api/v1/members/:id/checks", coordinators, s.apiRecordCheck)
	s.post("/api/v1/concerns", signedIn, s.apiRaiseConcern)
	s.get("/api/v1/concerns", coordinators, s.apiConcerns)
	s.post("/api/v1/concerns/:id/handle", coordinators, s.apiHandleConcern)
}
