"""Knowledge freshness: old accepted answers in threads people still read get a second look."""
