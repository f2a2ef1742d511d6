"""Storage: the ORM schema, engines and the repository functions the service calls."""
