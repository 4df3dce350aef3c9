package app

// registerDirectoryRoutes declares the routes of the directory of formal services: coordinators
// only, on the pages and the API. The Directory service checks the role again.
func (s *Server) registerDirectoryRoutes() {
	s.get("/coordinate/services", coordinators, s.servicesPage)
	s.get("/coordinate/services/new", coordinators, s.newServicePage)
	s.post("/coordinate/services", coordinators, s.createService)
	s.get("/coordinate/services/import", coordinators, s.importServicesPage)
	s.post("/coordinate/services/import", coordinators, s.importServices)
	s.get("/coordinate/services/:id", coordinators, s.servicePage)
	s.post("/coordinate/services/:id", coordinators, s.updateService)
	s.post("/coordinate/services/:id/secret", coordinators, s.newServiceSecret)
	s.post("/coordinate/services/:id/fallback", coordinators, s.pinFallback)
	s.post("/coordinate/services/:id/unpin", coordinators, s.unpinFallback)
	s.post("/coordinate/services/:id/users", coordinators, s.addServiceUser)
	s.post("/coordinate/services/:id/users/:member/remove", coordinators, s.removeServiceUser)
	s.post("/coordinate/services/:id/tokens", coordinators, s.createServiceToken)
	s.post("/coordinate/services/:id/tokens/:token/revoke", coordinators, s.revokeServiceToken)

	s.get("/api/v1/services", coordinators, s.apiServices)
	s.post("/api/v1/services", coordinators, s.apiCreateService)
	s.post("/api/v1/services/import", coordinators, s.apiImportServices)
	s.get("/api/v1/services/:id", coordinators, s.apiService)
	s.patch("/api/v1/services/:id", coordinators, s.apiPatchService)
	s.get("/api/v1/services/:id/users", coordinators, s.apiServiceUsers)
	s.post("/api/v1/services/:id/users", coordinators, s.apiAddServiceUser)
	s.delete("/api/v1/services/:id/users/:member", coordinators, s.apiRemoveServiceUser)
	s.get("/api/v1/services/:id/tokens", coordinators, s.apiServiceTokens)
	s.post("/api/v1/services/:id/tokens", coordinators, s.apiCreateServiceToken)
	s.delete("/api/v1/services/:id/tokens/:token", coordinators, s.apiRevokeServiceToken)
}
