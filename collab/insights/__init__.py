"""Community insights: activity, response times, flows between audiences, rising topics."""
