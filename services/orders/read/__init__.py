"""Orders' read side: tables, projections, what it keeps of other services' events, queries and views."""
