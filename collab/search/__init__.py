"""Search and discovery: full-text search, typeahead, related threads and similar ideas."""
