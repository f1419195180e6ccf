"""Routes per area: auth, secretary, review, leader, admin, and the JSON API."""
