package app

import "github.com/coop-exchange/coop/domain"

// registerRoutes declares every route and who may use it. The route-guard test walks this list
// and the app's own, so a route added without a policy fails the build's tests.
func (s *Server) registerRoutes() {
	// Operations and assets.
	s.get("/healthz", public, s.healthz)
	s.get("/readyz", public, s.readyz)
	s.get("/metrics", public, s.metricsHandler())
	s.get("/static/*", public, s.staticFile)

	// Public pages.
	s.get("/", public, s.homePage)
	s.get("/join", public, s.joinPage)
	s.post("/join", public, s.join)
	s.get("/join/thanks", public, s.joinThanks)
	s.get("/signin", public, s.signInPage)
	s.post("/signin", public, s.signIn)

	// Anyone signed in.
	s.post("/signout", signedIn, s.signOut)
	s.get("/account", signedIn, s.accountPage)
	s.post("/account/password", signedIn, s.changePassword)

	// Offering, asking for and finding support (members; coordinators also for a member).
	s.get("/support", posters, s.supportPage)
	s.get("/browse/requests", posters, s.browseRequestsPage)
	s.get("/browse/offers", posters, s.browseOffersPage)
	s.get("/offers/new", posters, s.newOfferPage)
	s.post("/offers", posters, s.postOffer)
	s.get("/offers/:id", posters, s.offerPage)
	s.get("/offers/:id/edit", posters, s.editOfferPage)
	s.post("/offers/:id", posters, s.updateOffer)
	s.post("/offers/:id/pause", posters, s.setOfferStatus(domain.OfferPaused, "The offer is paused. Nobody will be matched with it until you resume it."))
	s.post("/offers/:id/resume", posters, s.setOfferStatus(domain.OfferActive, "The offer is active again."))
	s.post("/offers/:id/withdraw", posters, s.setOfferStatus(domain.OfferWithdrawn, "The offer is withdrawn. Thank you for offering it."))
	s.get("/requests/new", posters, s.newRequestPage)
	s.post("/requests", posters, s.postRequest)
	s.get("/requests/:id", posters, s.requestPage)
	s.get("/requests/:id/edit", posters, s.editRequestPage)
	s.post("/requests/:id", posters, s.updateRequest)
	s.post("/requests/:id/cancel", posters, s.cancelRequest)

	// Coordinators.
	s.get("/coordinate", coordinators, s.coordinatePage)
	s.get("/coordinate/applications", coordinators, s.applicationsPage)
	s.get("/coordinate/applications/:id", coordinators, s.applicationPage)
	s.post("/coordinate/applications/:id/approve", coordinators, s.approveApplication)
	s.post("/coordinate/applications/:id/decline", coordinators, s.declineApplication)
	s.get("/coordinate/members", coordinators, s.membersPage)
	s.get("/coordinate/members/new", coordinators, s.newMemberPage)
	s.post("/coordinate/members", coordinators, s.addMember)
	s.get("/coordinate/members/:id", coordinators, s.memberPage)
	s.post("/coordinate/members/:id/role", admins, s.changeRole)
	s.post("/coordinate/members/:id/suspend", coordinators, s.suspendMember)
	s.post("/coordinate/members/:id/reinstate", coordinators, s.reinstateMember)
	s.get("/coordinate/areas", coordinators, s.areasPage)
	s.post("/coordinate/areas", coordinators, s.createArea)
	s.get("/coordinate/areas/:id", coordinators, s.areaPage)
	s.post("/coordinate/areas/:id", coordinators, s.updateArea)
	s.post("/coordinate/areas/:id/delete", coordinators, s.deleteArea)
	s.get("/coordinate/categories", coordinators, s.categoriesPage)
	s.post("/coordinate/categories", coordinators, s.createCategory)
	s.get("/coordinate/categories/:id", coordinators, s.categoryPage)
	s.post("/coordinate/categories/:id", coordinators, s.updateCategory)
	s.post("/coordinate/categories/:id/delete", coordinators, s.deleteCategory)
	s.get("/coordinate/audit", coordinators, s.auditPage)
	s.get("/coordinate/matching", coordinators, s.matchingPage)
	s.get("/coordinate/unmatched", coordinators, s.unmatchedPage)

	// The JSON API.
	s.get("/api/v1/openapi.json", public, s.openAPI)
	s.get("/api/v1/me", signedIn, s.apiMe)
	s.post("/api/v1/applications", public, s.apiApply)
	s.get("/api/v1/applications", coordinators, s.apiApplications)
	s.post("/api/v1/applications/:id/approve", coordinators, s.apiApprove)
	s.post("/api/v1/applications/:id/decline", coordinators, s.apiDecline)
	s.get("/api/v1/members", coordinators, s.apiMembers)
	s.post("/api/v1/members", coordinators, s.apiAddMember)
	s.get("/api/v1/members/:id", coordinators, s.apiMember)
	s.patch("/api/v1/members/:id", admins, s.apiPatchMember)
	s.post("/api/v1/members/:id/suspend", coordinators, s.apiSuspendMember)
	s.post("/api/v1/members/:id/reinstate", coordinators, s.apiReinstateMember)
	s.get("/api/v1/areas", public, s.apiAreas) // people applying to join choose one
	s.post("/api/v1/areas", coordinators, s.apiCreateArea)
	s.get("/api/v1/areas/:id", public, s.apiArea)
	s.patch("/api/v1/areas/:id", coordinators, s.apiPatchArea)
	s.delete("/api/v1/areas/:id", coordinators, s.apiDeleteArea)
	s.get("/api/v1/categories", public, s.apiCategories)
	s.post("/api/v1/categories", coordinators, s.apiCreateCategory)
	s.get("/api/v1/categories/:id", public, s.apiCategory)
	s.patch("/api/v1/categories/:id", coordinators, s.apiPatchCategory)
	s.delete("/api/v1/categories/:id", coordinators, s.apiDeleteCategory)
	s.get("/api/v1/offers", posters, s.apiOffers)
	s.post("/api/v1/offers", posters, s.apiPostOffer)
	s.get("/api/v1/offers/:id", posters, s.apiOffer)
	s.patch("/api/v1/offers/:id", posters, s.apiPatchOffer)
	s.post("/api/v1/offers/:id/pause", posters, s.apiSetOfferStatus(domain.OfferPaused))
	s.post("/api/v1/offers/:id/resume", posters, s.apiSetOfferStatus(domain.OfferActive))
	s.post("/api/v1/offers/:id/withdraw", posters, s.apiSetOfferStatus(domain.OfferWithdrawn))
	s.get("/api/v1/requests", posters, s.apiRequests)
	s.post("/api/v1/requests", posters, s.apiAskForSupport)
	s.get("/api/v1/requests/:id", posters, s.apiRequest)
	s.patch("/api/v1/requests/:id", posters, s.apiPatchRequest)
	s.post("/api/v1/requests/:id/cancel", posters, s.apiCancelRequest)

	// Safeguarding checks and concerns (routes_safeguarding.go).
	s.registerSafeguardingRoutes()
}
