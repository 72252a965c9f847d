"""JSON API /api/v1 (token auth only), its OpenAPI document and docs page,
and the page where users manage their personal API tokens."""
